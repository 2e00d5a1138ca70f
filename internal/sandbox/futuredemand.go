package sandbox

import "net/http"

// futureDemandState holds the emulated FutureDemand service's state.
type futureDemandState struct{}

// registerFutureDemand mounts the emulated FutureDemand API under PrefixFutureDemand.
func (s *Server) registerFutureDemand(mux *http.ServeMux) {}
