package sampling_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/otelkit/otelkit/sampling"
)

// The admin handler changes a logger's level for ten minutes, for a caller
// in the allow-list.
func ExamplePolicy_Admin() {
	policy, _ := sampling.New(
		sampling.WithAllowedPeers("127.0.0.1"),
		sampling.WithLogger(slog.New(slog.DiscardHandler)),
	)
	levels := &sampling.LevelVars{} // logbridge provides the real store
	depsLevel := levels.Var("deps") // a handler's slog.Leveler
	admin := policy.Admin(levels)
	defer admin.Close()

	r := httptest.NewRequest(http.MethodPut, "/?logger=deps&level=debug&for=10m", nil)
	r.RemoteAddr = "127.0.0.1:5000"
	w := httptest.NewRecorder()
	admin.ServeHTTP(w, r)
	fmt.Println(w.Code, depsLevel.Level())

	r = httptest.NewRequest(http.MethodPut, "/?level=debug", nil)
	r.RemoteAddr = "198.51.100.1:5000"
	w = httptest.NewRecorder()
	admin.ServeHTTP(w, r)
	fmt.Println(w.Code)
	// Output:
	// 200 DEBUG
	// 403
}
