package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// runLoad sends a bounded mix of requests to the orders service, for a run
// by hand (`orders load`); the compose stack's loadgen service does not use
// it, it runs deploy/loadgen/load.sh. It stops after LOAD_REQUESTS requests
// (default 100,000) or when ctx ends, with LOAD_CONCURRENCY workers (default 4).
func runLoad(ctx context.Context, base string) error {
	var n, workers int
	fmt.Sscan(env("LOAD_REQUESTS", "100000"), &n)
	fmt.Sscan(env("LOAD_CONCURRENCY", "4"), &workers)
	paths := []string{"/orders/o-1", "/orders/o-2", "/orders/o-3", "/orders/missing", "/orders/o-4?slow=1", "/orders/o-5?fail=1", "/panic"}
	client := &http.Client{Timeout: 10 * time.Second}
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(1, workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+paths[i%len(paths)], nil)
				if err != nil {
					continue
				}
				if i%10 != 9 { // one request in ten is unauthorized
					req.Header.Set("Authorization", "Bearer demo-token")
				}
				resp, err := client.Do(req)
				if err != nil {
					time.Sleep(200 * time.Millisecond) // the service is not up yet
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	slog.Info("load done", "requests", n)
	return nil
}
