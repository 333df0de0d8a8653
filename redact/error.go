package redact

import "fmt"

// Error returns the text of err with every secret redacted, as by String.
// This matters because error strings carry what the code was doing:
// *url.Error, for one, prints the whole URL, query and userinfo included.
// A nil err gives "". If err.Error panics, Error returns a fixed text
// instead of panicking.
func (p *Policy) Error(err error) string {
	if err == nil {
		return ""
	}
	s, _ := p.or().errorText(err)
	return s
}

// errorText returns the redacted text of err and whether redaction
// changed it.
func (p *Policy) errorText(err error) (s string, changed bool) {
	msg, ok := safeErrorString(err)
	if !ok {
		return msg, true
	}
	return p.text(msg)
}

func safeErrorString(err error) (s string, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			s, ok = fmt.Sprintf("%T: Error() panicked", err), false
		}
	}()
	return err.Error(), true
}
