package redact

import (
	"errors"
	"fmt"
	"net/url"
	"testing"
)

type panicError struct{}

func (*panicError) Error() string { panic("boom") }

func TestError(t *testing.T) {
	p := New()
	var nilPtr *panicError
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"url.Error", &url.Error{Op: "Get", URL: "https://u:pw@api.test/v1?X-Amz-Signature=abc&page=2", Err: errors.New("EOF")},
			`Get "https://REDACTED:REDACTED@api.test/v1?X-Amz-Signature=REDACTED&page=2": EOF`},
		{"wrapped", fmt.Errorf("load config: %w", errors.New("password=hunter2 rejected")), "load config: password=[REDACTED] rejected"},
		{"clean", errors.New("connection refused"), "connection refused"},
		{"panicking Error", nilPtr, "*redact.panicError: Error() panicked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Error(tt.err); got != tt.want {
				t.Errorf("Error = %q, want %q", got, tt.want)
			}
		})
	}
}
