package tracing_test

import (
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"opfacade/tracing"
)

// TestFromEnv: tracing is on only when a variable names an endpoint or
// the otlp exporter, and spans go where the OTLP exporter sends them;
// once on, the batching and the sampler are the variables'.
func TestFromEnv(t *testing.T) {
	for _, tt := range []struct {
		name     string
		env      map[string]string
		endpoint string // "" for off
		batching tracing.Batching
		sampler  sdktrace.Sampler // nil: parentbased_always_on when on
		err      string
	}{
		{name: "no variable: off"},
		{name: "the general endpoint, traces path appended", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, endpoint: "http://collector:4318/v1/traces"},
		{name: "the general endpoint with a path", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://gateway.example/otel/"}, endpoint: "https://gateway.example/otel/v1/traces"},
		{name: "the traces endpoint, as it is", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://jaeger:4318/v1/traces"}, endpoint: "http://jaeger:4318/v1/traces"},
		{name: "the traces endpoint without a path", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://jaeger:4318"}, endpoint: "http://jaeger:4318/"},
		{name: "the traces endpoint wins", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:4318/t"}, endpoint: "http://b:4318/t"},
		{name: "the exporter alone: the local collector", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, endpoint: "http://localhost:4318/v1/traces"},
		{name: "exporter none", env: map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}},
		{name: "SDK disabled", env: map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}},
		{name: "protobuf said", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, endpoint: "http://c:4318/v1/traces"},
		{name: "batching", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_BSP_SCHEDULE_DELAY": "200", "OTEL_BSP_EXPORT_TIMEOUT": "1000", "OTEL_BSP_MAX_QUEUE_SIZE": "8192", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "1024"},
			endpoint: "http://c:4318/v1/traces", batching: tracing.Batching{Delay: 200 * time.Millisecond, Timeout: time.Second, MaxQueue: 8192, MaxBatch: 1024}},
		{name: "tracing off: the batching unread", env: map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "soon"}},
		{name: "a delay not in milliseconds", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_BSP_SCHEDULE_DELAY": "5s"}, err: `OTEL_BSP_SCHEDULE_DELAY="5s": want a positive integer`},
		{name: "no queue", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_BSP_MAX_QUEUE_SIZE": "0"}, err: `OTEL_BSP_MAX_QUEUE_SIZE="0": want a positive integer`},
		{name: "sampler always_on", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_SAMPLER": "always_on"}, endpoint: "http://c:4318/v1/traces", sampler: sdktrace.AlwaysSample()},
		{name: "sampler always_off", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_SAMPLER": "always_off"}, endpoint: "http://c:4318/v1/traces", sampler: sdktrace.NeverSample()},
		{name: "sampler traceidratio", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"}, endpoint: "http://c:4318/v1/traces", sampler: sdktrace.TraceIDRatioBased(0.25)},
		{name: "sampler traceidratio without a ratio: all", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_SAMPLER": "traceidratio"}, endpoint: "http://c:4318/v1/traces", sampler: sdktrace.TraceIDRatioBased(1)},
		{name: "sampler parentbased_always_on", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_SAMPLER": "parentbased_always_on"}, endpoint: "http://c:4318/v1/traces", sampler: sdktrace.ParentBased(sdktrace.AlwaysSample())},
		{name: "sampler parentbased_always_off", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_SAMPLER": "parentbased_always_off"}, endpoint: "http://c:4318/v1/traces", sampler: sdktrace.ParentBased(sdktrace.NeverSample())},
		{name: "sampler parentbased_traceidratio", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_SAMPLER": " ParentBased_TraceIDRatio ", "OTEL_TRACES_SAMPLER_ARG": "0.1"}, endpoint: "http://c:4318/v1/traces", sampler: sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.1))},
		{name: "tracing off: the sampler unread", env: map[string]string{"OTEL_TRACES_SAMPLER": "jaeger_remote"}},
		{name: "a sampler the facade does not know", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_SAMPLER": "jaeger_remote"}, err: `OTEL_TRACES_SAMPLER="jaeger_remote": want always_on, always_off, traceidratio, parentbased_always_on (the default)`},
		{name: "a ratio above 1", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"}, err: `OTEL_TRACES_SAMPLER_ARG="1.5": want the share of traces kept, from 0 to 1`},
		{name: "a ratio not a number", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "NaN"}, err: `OTEL_TRACES_SAMPLER_ARG="NaN"`},
		{name: "another exporter", env: map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, err: `OTEL_TRACES_EXPORTER="zipkin": want otlp, or none`},
		{name: "gRPC", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317"}, err: `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="grpc": want http/protobuf or http/json`},
		{name: "no scheme", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, err: `OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318": want an http:// or https:// URL`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tracing.FromEnv(func(k string) string { return tt.env[k] })
			switch {
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want one saying %s", err, tt.err)
			case tt.err == "" && err != nil:
				t.Fatal(err)
			}
			if c.Endpoint != tt.endpoint || c.On() != (tt.endpoint != "") {
				t.Errorf("endpoint %q (on: %v), want %q", c.Endpoint, c.On(), tt.endpoint)
			}
			if c.Batching != tt.batching {
				t.Errorf("batching %+v, want %+v", c.Batching, tt.batching)
			}
			if tt.sampler == nil && c.On() {
				tt.sampler = sdktrace.ParentBased(sdktrace.AlwaysSample())
			}
			if got, want := description(c.Sampler), description(tt.sampler); got != want {
				t.Errorf("sampler %s, want %s", got, want)
			}
		})
	}
}

func description(s sdktrace.Sampler) string {
	if s == nil {
		return "none"
	}
	return s.Description()
}
