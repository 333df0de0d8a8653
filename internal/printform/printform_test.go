package printform

import (
	"encoding/json"
	"errors"
	"net"
	"testing"
	"time"
)

type hidden struct {
	User string `json:"user"`
	Pass string `json:"-"`
}

type both struct{}

func (both) MarshalJSON() ([]byte, error) { return []byte(`{"j":1}`), nil }
func (both) String() string               { return "s" }

type badErr struct{}

func (*badErr) Error() string { panic("x") }

func TestSprint(t *testing.T) {
	var nilErr *badErr
	for _, tc := range []struct {
		in   any
		want string
		form Form
	}{
		{hidden{"bob", "pw"}, `{"user":"bob"}`, JSON},
		{&hidden{"bob", "pw"}, `{"user":"bob"}`, JSON},
		{map[string]int{"a": 1}, `{"a":1}`, JSON},
		{both{}, `{"j":1}`, JSON},
		{net.IPv4(10, 0, 0, 1), "10.0.0.1", String},
		{errors.New("e"), "e", Error},
		{"plain", "plain", Native},
		{42, "42", Native},
		{nil, "<nil>", Native},
		{time.Second, "1s", Native},
		{json.RawMessage(`{"x":1}`), `{"x":1}`, JSON},
		{&badErr{}, "(*printform.badErr: formatting the value panicked)", Error},
		{nilErr, "<nil>", Error},
		{struct{ C chan int }{}, "{<nil>}", JSON},
	} {
		if got := Sprint(tc.in); got != tc.want {
			t.Errorf("Sprint(%#v) = %q, want %q", tc.in, got, tc.want)
		}
		if got := Of(tc.in); got != tc.form {
			t.Errorf("Of(%#v) = %d, want %d", tc.in, got, tc.form)
		}
	}
}
