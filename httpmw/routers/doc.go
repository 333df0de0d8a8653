// Package routers tests httpmw with third-party routers (chi and
// gorilla/mux). It is a module of its own so that the routers stay out of
// otelkit's dependencies.
package routers
