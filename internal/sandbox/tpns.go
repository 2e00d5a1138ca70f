package sandbox

import "net/http"

// tpnsState holds the emulated TPNS service's state.
type tpnsState struct{}

// registerTPNS mounts the emulated TPNS API under PrefixTPNS.
func (s *Server) registerTPNS(mux *http.ServeMux) {}
