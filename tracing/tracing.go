// Package tracing follows a request through a replica with OpenTelemetry:
// a span for the HTTP request (Handler), its GraphQL operation and, when
// it has several, its root fields (GraphQL), the resolvers that read the
// store (Start, in package resolvers), and each SQL statement
// (Statements). The spans are the facade's own (Recorder): cheap to
// record on the request's path, converted to OTLP in the background and
// sent in batches over OTLP/HTTP to a collector (Jaeger, Tempo), as the
// standard OTEL_ variables configure it (FromEnv); tracing is off unless
// they name an endpoint or an exporter. OTEL_TRACES_SAMPLER chooses which
// requests are traced, with the SDK's samplers.
//
// Off, nothing is wrapped or started: the app passes a nil provider and
// each instrumentation steps aside.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// ServiceName names the facade's spans unless OTEL_SERVICE_NAME (or
// service.name in OTEL_RESOURCE_ATTRIBUTES) says otherwise.
const ServiceName = "opfacade"

// defaultEndpoint is where OTEL_TRACES_EXPORTER=otlp alone sends spans:
// the OTLP/HTTP port of a collector on the same host.
const defaultEndpoint = "http://localhost:4318/v1/traces"

// flushTimeout bounds the flush at exit: a collector that does not
// answer must not hold the process.
const flushTimeout = 5 * time.Second

// Config is tracing as the environment configures it.
type Config struct {
	// Endpoint is the URL spans are sent to; "" when tracing is off.
	Endpoint string
	// Batching is how they are sent.
	Batching Batching
	// Sampler decides which spans are recorded and sent.
	Sampler sdktrace.Sampler
}

// On reports whether spans are sent anywhere.
func (c Config) On() bool { return c.Endpoint != "" }

// FromEnv reads whether tracing is on, and where spans go, from the
// standard variables: on when OTEL_TRACES_EXPORTER is otlp, or when
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is
// set; off when none is, when the exporter is none, or when
// OTEL_SDK_DISABLED is true. Once on, it reads the sampler
// (OTEL_TRACES_SAMPLER and _ARG, see samplerFromEnv) and the batching
// (OTEL_BSP_, see Batching) too. The rest (headers, timeout, compression,
// certificates; resource attributes) the OTLP client and the resource
// read from the process's environment as the specification says, which
// is getenv's in the binary. A value the facade cannot serve is an error
// naming the variable.
func FromEnv(getenv func(string) string) (Config, error) {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return Config{}, nil
	}
	exporter := strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")))
	switch exporter {
	case "none":
		return Config{}, nil
	case "", "otlp":
	default:
		return Config{}, fmt.Errorf("OTEL_TRACES_EXPORTER=%q: want otlp, or none for no traces", exporter)
	}
	if err := checkProtocol(getenv); err != nil {
		return Config{}, err
	}
	endpoint, err := endpointFromEnv(getenv)
	if err != nil || (endpoint == "" && exporter == "") {
		return Config{}, err
	}
	if endpoint == "" {
		endpoint = defaultEndpoint
	}
	batching, err := batchingFromEnv(getenv)
	if err != nil {
		return Config{}, err
	}
	sampler, err := samplerFromEnv(getenv)
	if err != nil {
		return Config{}, err
	}
	return Config{Endpoint: endpoint, Batching: batching, Sampler: sampler}, nil
}

// checkProtocol refuses OTLP over gRPC: the facade sends OTLP over HTTP
// only, and would otherwise talk HTTP to a gRPC port.
func checkProtocol(getenv func(string) string) error {
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		switch p := strings.TrimSpace(getenv(name)); p {
		case "", "http/protobuf", "http/json":
		default:
			return fmt.Errorf("%s=%q: want http/protobuf or http/json; the facade sends OTLP over HTTP (a collector's port 4318), not gRPC", name, p)
		}
	}
	return nil
}

// endpointFromEnv is the URL the exporter sends spans to, as it reads the
// variables: the traces endpoint as it is, else the general one with
// /v1/traces appended; "" when neither is set.
func endpointFromEnv(getenv func(string) string) (string, error) {
	if v := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")); v != "" {
		u, err := parseEndpoint("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", v)
		if err != nil {
			return "", err
		}
		if u.Path == "" {
			u.Path = "/"
		}
		return u.String(), nil
	}
	if v := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT")); v != "" {
		u, err := parseEndpoint("OTEL_EXPORTER_OTLP_ENDPOINT", v)
		if err != nil {
			return "", err
		}
		return u.JoinPath("v1/traces").String(), nil
	}
	return "", nil
}

func parseEndpoint(name, v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s=%q: want an http:// or https:// URL, such as http://localhost:4318", name, v)
	}
	return u, nil
}

// Tracing is the process's tracing, started from a Config (New).
type Tracing struct {
	// Provider makes the facade's tracers (see app.Config); nil when
	// tracing is off.
	Provider trace.TracerProvider

	recorder *Recorder
	client   otlptrace.Client
	log      *slog.Logger
}

// New starts tracing as c says, for the facade at version, and logs
// where spans go or that tracing is off. Failed sends are logged to log
// (see reportSend).
func New(ctx context.Context, c Config, version string, log *slog.Logger) (*Tracing, error) {
	if !c.On() {
		log.Info("tracing off: set OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://localhost:4318) to send spans")
		return &Tracing{log: log}, nil
	}
	res, err := newResource(ctx, version)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	client := otlptracehttp.NewClient()
	if err := client.Start(ctx); err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	rec := NewRecorder(client, Options{Sampler: c.Sampler, Batching: c.Batching, Resource: res, Log: log})
	service, _ := res.Set().Value(semconv.ServiceNameKey)
	log.Info("tracing on: spans go over OTLP/HTTP", "endpoint", c.Endpoint, "service", service.AsString(), "sampler", rec.sampler.Description())
	return &Tracing{Provider: rec, recorder: rec, client: client, log: log}, nil
}

// newResource describes the facade's spans: the service's name and
// version, the host (which replica), what records them (the facade's own
// recorder, not the OpenTelemetry SDK), then what OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES say, which win.
func newResource(ctx context.Context, version string) (*resource.Resource, error) {
	res, err := resource.New(ctx,
		resource.WithHost(),
		resource.WithAttributes(semconv.ServiceName(ServiceName), semconv.ServiceVersion(version),
			semconv.TelemetrySDKName(ServiceName), semconv.TelemetrySDKLanguageGo, semconv.TelemetrySDKVersion(version)),
		resource.WithFromEnv(),
	)
	if errors.Is(err, resource.ErrPartialResource) {
		return res, nil // a detector failed; the rest still describes the spans
	}
	return res, err
}

// Close sends the spans not yet sent, within flushTimeout, and stops
// tracing. What could not be sent is logged.
func (t *Tracing) Close() {
	if t.recorder == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	if err := t.recorder.Shutdown(ctx); err != nil {
		t.log.Warn("tracing: spans not sent at exit", "err", err)
	}
	_ = t.client.Stop(ctx) // it has nothing left to send
}

// Propagator reads and writes a trace's context in HTTP headers: W3C
// traceparent and tracestate, and baggage.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}
