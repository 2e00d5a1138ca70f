package sandbox

import "net/http"

// handleS3UploadPart serves a presigned UploadPart (PUT with partNumber and
// uploadId). Multipart uploads arrive with the Future Demand issue.
func (s *Server) handleS3UploadPart(w http.ResponseWriter, r *http.Request, bucket, key string) {
	writeS3Error(w, &s3Error{http.StatusNotImplemented, "NotImplemented", "multipart uploads are not emulated yet"})
}
