package sandbox

import "net/http"

// handleS3PostObject serves an S3 POST-policy (V4) upload. It arrives with
// the OpenIM issue.
func (s *Server) handleS3PostObject(w http.ResponseWriter, r *http.Request) {
	defer drain(r)
	writeS3Error(w, &s3Error{http.StatusNotImplemented, "NotImplemented", "S3 POST policy uploads are not emulated yet"})
}
