package sandbox

import "net/http"

// openIMState holds the emulated OpenIM service's state.
type openIMState struct{}

// registerOpenIM mounts the emulated OpenIM API under PrefixOpenIM.
func (s *Server) registerOpenIM(mux *http.ServeMux) {}
