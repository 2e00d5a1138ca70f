// Package transfer holds the streaming upload and download flows shared by
// every platform client: presigned PUT, form POST, progress reporting and
// hashing while sending. It knows HTTP, nothing of Terraform.
package transfer

import "context"

// Logger receives progress and diagnostic messages. The provider adapts it
// to tflog; tests may use NopLogger. Implementations must never be handed
// secrets: callers log only redacted values.
type Logger interface {
	Info(ctx context.Context, msg string, fields map[string]any)
	Debug(ctx context.Context, msg string, fields map[string]any)
}

// NopLogger discards everything.
type NopLogger struct{}

// Info implements Logger.
func (NopLogger) Info(context.Context, string, map[string]any) {}

// Debug implements Logger.
func (NopLogger) Debug(context.Context, string, map[string]any) {}

// OrNop returns l, or a NopLogger when l is nil.
func OrNop(l Logger) Logger {
	if l == nil {
		return NopLogger{}
	}
	return l
}
