package errname

import (
	"errors"
	"fmt"
	"net/url"
	"testing"
)

type valueErr struct{}

func (valueErr) Error() string { return "v" }

type typedErr struct{ t string }

func (e typedErr) Error() string     { return "t" }
func (e typedErr) ErrorType() string { return e.t }

type panicky struct{}

func (panicky) Error() string     { return "p" }
func (panicky) ErrorType() string { panic("no") }

func TestOf(t *testing.T) {
	ue := &url.Error{Op: "Get", URL: "u", Err: errors.New("x")}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("x"), "*errors.errorString"},
		{ue, "*url.Error"},
		{fmt.Errorf("a: %w", fmt.Errorf("b: %w", ue)), "*url.Error"},
		{fmt.Errorf("a: %w", nil), "*fmt.wrapError"},
		{valueErr{}, "github.com/otelkit/otelkit/internal/errname.valueErr"},
		{typedErr{"custom"}, "custom"},
		{typedErr{""}, "github.com/otelkit/otelkit/internal/errname.typedErr"},
		{panicky{}, "github.com/otelkit/otelkit/internal/errname.panicky"},
	} {
		if got := Of(tc.err); got != tc.want {
			t.Errorf("Of(%#v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
