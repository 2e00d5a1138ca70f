package transfer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Shape describes a JSON answer by its keys and the types of its values,
// never the values, so an answer a client cannot read can be reported
// without leaking tokens or URLs: {"parts": [{"n": number, "u": string}],
// "uploadRef": string}. An array is described by its first element and its
// length. Deep or wide documents are cut with "…".
func Shape(body []byte) string {
	d := json.NewDecoder(bytes.NewReader(bytes.TrimSpace(body)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil || d.More() {
		return fmt.Sprintf("not JSON (%d bytes)", len(body))
	}
	var b strings.Builder
	shapeOf(&b, v, 0)
	return b.String()
}

const (
	shapeDepth   = 6
	shapeKeys    = 40
	shapeKeySize = 64
)

func shapeOf(b *strings.Builder, v any, depth int) {
	switch t := v.(type) {
	case map[string]any:
		if depth >= shapeDepth {
			b.WriteString("{…}")
			return
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("{")
		for i, k := range keys {
			if i == shapeKeys {
				fmt.Fprintf(b, ", … %d more keys", len(keys)-i)
				break
			}
			if i > 0 {
				b.WriteString(", ")
			}
			if len(k) > shapeKeySize {
				k = k[:shapeKeySize] + "…"
			}
			b.WriteString(strconv.Quote(k) + ": ")
			shapeOf(b, t[k], depth+1)
		}
		b.WriteString("}")
	case []any:
		switch {
		case len(t) == 0:
			b.WriteString("[]")
		case depth >= shapeDepth:
			b.WriteString("[…]")
		default:
			b.WriteString("[")
			shapeOf(b, t[0], depth+1)
			if len(t) > 1 {
				fmt.Fprintf(b, " ×%d", len(t))
			}
			b.WriteString("]")
		}
	case string:
		b.WriteString("string")
	case json.Number:
		b.WriteString("number")
	case bool:
		b.WriteString("bool")
	case nil:
		b.WriteString("null")
	}
}
