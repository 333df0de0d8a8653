package redact

import (
	"log/slog"
	"sync"
	"testing"
)

func TestPolicyConcurrentSafe(t *testing.T) {
	p := New(WithHashKey([]byte("k")), WithEmailRule(true))
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for i := 0; i < 200; i++ {
				if got := p.String("password=hunter2"); got != "password="+p.Hash("hunter2") {
					t.Errorf("String = %q", got)
					return
				}
				p.URLString("https://u:p@h/?sig=x")
				p.Attr(slog.Any("m", map[string]any{"token": "t"}))
				p.Header(typicalHeader())
			}
		})
	}
	wg.Wait()
}
