package journey

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
)

// tfState is what the journey reads of a state file (format version 4,
// shared by Terraform and OpenTofu).
type tfState struct {
	Serial    int64        `json:"serial"`
	Resources []stateEntry `json:"resources"`
}

type stateEntry struct {
	Mode      string          `json:"mode"`
	Type      string          `json:"type"`
	Name      string          `json:"name"`
	Instances []stateInstance `json:"instances"`
}

type stateInstance struct {
	Attributes map[string]any `json:"attributes"`
	// Private is the provider's private data: base64 of the framework's
	// JSON object, whose values are base64 of each key's JSON.
	Private string `json:"private"`
}

// stateResource is one managed resource instance in state.
type stateResource struct {
	Addr    string
	Type    string
	Attrs   map[string]any
	Private map[string]json.RawMessage // decoded, by key
}

func (r stateResource) str(name string) string {
	s, _ := r.Attrs[name].(string)
	return s
}

func (r stateResource) num(name string) int64 {
	f, _ := r.Attrs[name].(float64)
	return int64(f)
}

// readState reads the managed resources of a state file; a missing file
// is an empty state.
func readState(path string) (map[string]stateResource, []byte, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]stateResource{}, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var st tfState
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, raw, fmt.Errorf("state %s: %w", path, err)
	}
	out := map[string]stateResource{}
	for _, e := range st.Resources {
		if e.Mode != "managed" {
			continue
		}
		for _, in := range e.Instances {
			priv, err := decodePrivate(in.Private)
			if err != nil {
				return nil, raw, fmt.Errorf("state %s: private data of %s.%s: %w", path, e.Type, e.Name, err)
			}
			addr := e.Type + "." + e.Name
			out[addr] = stateResource{Addr: addr, Type: e.Type, Attrs: in.Attributes, Private: priv}
		}
	}
	return out, raw, nil
}

// decodePrivate decodes terraform-plugin-framework's private data as
// stored in state.
func decodePrivate(s string) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	if s == "" {
		return out, nil
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	var byKey map[string][]byte
	if err := json.Unmarshal(raw, &byKey); err != nil {
		return nil, err
	}
	for k, v := range byKey {
		out[k] = v
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
