package redact

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

// Secret is a string that never shows its value: logged with slog, printed
// with fmt (any verb, %#v included), marshalled to JSON or text, or passed
// to attribute.Stringer, it gives Mask. Use Reveal, or a conversion to
// string, where the value itself is needed.
//
//	type Config struct {
//		DSN redact.Secret `json:"dsn"`
//	}
type Secret string

// String returns Mask.
func (Secret) String() string { return Mask }

// Reveal returns the secret value itself.
func (s Secret) Reveal() string { return string(s) }

// LogValue returns Mask, so slog never sees the value.
func (Secret) LogValue() slog.Value { return slog.StringValue(Mask) }

// Format writes Mask (quoted for %q) whatever the verb and flags.
func (Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' || (verb == 'v' && f.Flag('#')) {
		_, _ = io.WriteString(f, strconv.Quote(Mask))
		return
	}
	_, _ = io.WriteString(f, Mask)
}

// MarshalJSON returns Mask as a JSON string.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Mask + `"`), nil }

// MarshalText returns Mask.
func (Secret) MarshalText() ([]byte, error) { return []byte(Mask), nil }

var (
	_ slog.LogValuer = Secret("")
	_ fmt.Formatter  = Secret("")
	_ fmt.Stringer   = Secret("")
)
