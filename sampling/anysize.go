package sampling

import (
	"math"
	"reflect"
	"time"
)

// Bounds of anySize's walk. A value is walked to anyMaxDepth levels of
// pointers, fields and elements; a slice, array or map is sampled at its
// first anySample elements (a map at anySample entries in its iteration
// order) and the rest is extrapolated from their average; and one value
// visits at most anyBudget nodes in all, whatever its shape.
const (
	anyMaxDepth = 16
	anySample   = 32
	anyBudget   = 2048

	// Estimated cost of a map beyond its entries: the map header and
	// directory of its tables.
	mapHeader = 64
	// Values whose content cannot be walked (functions and the closures
	// they capture, channels' waiting goroutines): a fixed guess.
	opaqueGuess = 64
)

var locationType = reflect.TypeFor[time.Location]()

// anySize estimates the bytes a held value of kind Any or LogValuer keeps
// alive: the boxed value the interface points to and, through a reflective
// walk, the strings, slices, maps and pointed-to values it reaches. Maps of
// strings, structs with slices, and error chains are thus charged for their
// content instead of a flat guess, so a tail buffer holding large payloads
// stays within its byte bound.
//
// Why a bounded walk rather than rendering the value to a string at hold
// time (which would also freeze a value the caller mutates later): a held
// record must reach the sink as it would have without the tail buffer, and
// a rendered map or error would arrive as a string (a JSON or OTLP sink
// writes a map as an object, not as text), while rendering allocates and
// formats on every held record. The walk calls no method of the value
// (neither String, Error nor LogValue, so no user code runs and nothing is
// resolved early), does not allocate, and only values of kind Any and
// LogValuer pay for it: scalar attributes keep their constant cost.
//
// The walk's work is bounded (see anyMaxDepth, anySample, anyBudget), so
// the result is an estimate: collections are extrapolated from a sample,
// and data deeper than anyMaxDepth levels or beyond the budget is not
// counted. Shared data (a pointer to a large structure also used elsewhere)
// is counted in full, which errs on the high side; time.Location values,
// shared by every time.Time, are not counted.
func anySize(x any) int {
	switch x := x.(type) {
	case nil:
		return 0
	case string: // the common cases, without reflection
		return 16 + len(x)
	case []byte:
		return 24 + cap(x)
	}
	v := reflect.ValueOf(x)
	w := walker{budget: anyBudget}
	return clampInt(boxSize(v) + w.size(v, 0))
}

// boxSize is the memory an interface holding v points to: nothing for
// pointer-shaped kinds, stored in the interface itself, else a copy of v.
func boxSize(v reflect.Value) float64 {
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return 0
	}
	return float64(v.Type().Size())
}

// walker carries the budget of one anySize call. Sizes are float64 so that
// extrapolation cannot overflow; anySize clamps the result.
type walker struct {
	budget int
}

// size returns the bytes v refers to beyond its own inline size.
func (w *walker) size(v reflect.Value, depth int) float64 {
	if w.budget <= 0 || depth > anyMaxDepth {
		return 0
	}
	w.budget--
	switch v.Kind() {
	case reflect.String:
		return float64(v.Len())
	case reflect.Pointer:
		if v.IsNil() || v.Type().Elem() == locationType {
			return 0
		}
		e := v.Elem()
		return float64(e.Type().Size()) + w.size(e, depth+1)
	case reflect.Interface:
		if v.IsNil() {
			return 0
		}
		e := v.Elem()
		return boxSize(e) + w.size(e, depth+1)
	case reflect.Slice:
		if v.IsNil() {
			return 0
		}
		return float64(v.Cap())*float64(v.Type().Elem().Size()) + w.elems(v, depth)
	case reflect.Array:
		return w.elems(v, depth)
	case reflect.Struct:
		if flat(v.Type(), 0) {
			return 0
		}
		var n float64
		for i := range v.NumField() {
			n += w.size(v.Field(i), depth+1)
		}
		return n
	case reflect.Map:
		if v.IsNil() {
			return 0
		}
		t := v.Type()
		// Slots of key, value and a control byte, in groups of 8. A table
		// is at most 7/8 full and, just after it grew, only 7/16 full.
		slot := float64(t.Key().Size()+t.Elem().Size()) + 1
		n := mapHeader + 8*slot
		if l := v.Len(); l > 8 {
			n = mapHeader + float64(l)*slot*16/7
		}
		if flat(t.Key(), 0) && flat(t.Elem(), 0) {
			return n
		}
		return n + w.entries(v, depth)
	case reflect.Chan:
		if v.IsNil() {
			return 0
		}
		return opaqueGuess + float64(v.Cap())*float64(v.Type().Elem().Size())
	case reflect.Func:
		if v.IsNil() {
			return 0
		}
		return opaqueGuess
	}
	return 0 // booleans, numbers, unsafe pointers: nothing beyond themselves
}

// entries returns the bytes the keys and values of a map refer to,
// sampled and extrapolated. The common payload maps are iterated natively:
// reflect's MapIter allocates a copy of each key and value.
func (w *walker) entries(v reflect.Value, depth int) float64 {
	var sum float64
	seen := 0
	if v.CanInterface() {
		switch m := v.Interface().(type) {
		case map[string]string:
			for k, e := range m {
				if seen == anySample || w.budget <= 0 {
					break
				}
				w.budget--
				sum += float64(len(k) + len(e))
				seen++
			}
			return extrapolate(sum, seen, len(m))
		case map[string]any:
			for k, e := range m {
				if seen == anySample || w.budget <= 0 {
					break
				}
				e := reflect.ValueOf(e)
				if e.IsValid() {
					sum += boxSize(e) + w.size(e, depth+1)
				}
				sum += float64(len(k))
				seen++
			}
			return extrapolate(sum, seen, len(m))
		}
	}
	for it := v.MapRange(); seen < anySample && w.budget > 0 && it.Next(); seen++ {
		sum += w.size(it.Key(), depth+1) + w.size(it.Value(), depth+1)
	}
	return extrapolate(sum, seen, v.Len())
}

// elems returns the bytes the elements of a slice or array refer to,
// sampled and extrapolated.
func (w *walker) elems(v reflect.Value, depth int) float64 {
	n := v.Len()
	if n == 0 || flat(v.Type().Elem(), 0) {
		return 0
	}
	var sum float64
	seen := 0
	for ; seen < min(n, anySample) && w.budget > 0; seen++ {
		sum += w.size(v.Index(seen), depth+1)
	}
	return extrapolate(sum, seen, n)
}

// extrapolate scales the sum over seen of n elements to all n.
func extrapolate(sum float64, seen, n int) float64 {
	if seen == 0 || seen >= n {
		return sum
	}
	return sum / float64(seen) * float64(n)
}

// flat reports whether values of t refer to no memory beyond themselves.
func flat(t reflect.Type, depth int) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.Array:
		return t.Len() == 0 || depth < 4 && flat(t.Elem(), depth+1)
	case reflect.Struct:
		if depth >= 4 {
			return false
		}
		for i := range t.NumField() {
			if !flat(t.Field(i).Type, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

func clampInt(f float64) int {
	if f >= math.MaxInt32 {
		return math.MaxInt32 // beyond any byte bound
	}
	return int(f)
}
