package transfer

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
)

// Ambiguous reports whether a request that is not safe to repeat (a create)
// may have been acted on by the server although no answer arrived: the
// connection broke or timed out after the request went out, or the server
// answered 500, 502 or 504. A failure to connect at all is not ambiguous.
func Ambiguous(err error) bool {
	if err == nil {
		return false
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	var st interface{ HTTPStatus() int }
	if errors.As(err, &st) {
		switch st.HTTPStatus() {
		case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
