package sandbox

import "net/http"

// altcraftState holds the emulated Altcraft service's state.
type altcraftState struct{}

// registerAltcraft mounts the emulated Altcraft API under PrefixAltcraft.
func (s *Server) registerAltcraft(mux *http.ServeMux) {}
