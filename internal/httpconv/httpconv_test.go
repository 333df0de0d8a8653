package httpconv

import (
	"slices"
	"testing"
)

func TestMethod(t *testing.T) {
	for in, want := range map[string]string{
		"": "GET", "GET": "GET", "POST": "POST", "PATCH": "PATCH", "TRACE": "TRACE",
		"get": MethodOther, "PROPFIND": MethodOther, "G\x00T": MethodOther,
	} {
		if got := Method(in); got != want {
			t.Errorf("Method(%q) = %q, want %q", in, got, want)
		}
	}
	if SpanMethod(MethodOther) != "HTTP" || SpanMethod("GET") != "GET" {
		t.Error("SpanMethod")
	}
}

func TestDurationBucketsFresh(t *testing.T) {
	b := DurationBuckets()
	if !slices.IsSorted(b) || b[0] != 0.005 || b[len(b)-1] != 10 {
		t.Fatalf("buckets %v", b)
	}
	b[0] = 99
	if DurationBuckets()[0] != 0.005 {
		t.Error("callers share the slice")
	}
}
