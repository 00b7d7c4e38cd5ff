package tracing

import (
	"fmt"
	"strconv"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// defaultSampler traces every request unless its caller's traceparent
// says its trace is not sampled: the specification's default,
// parentbased_always_on.
func defaultSampler() sdktrace.Sampler { return sdktrace.ParentBased(sdktrace.AlwaysSample()) }

// samplerFromEnv is the sampler OTEL_TRACES_SAMPLER names, with its
// OTEL_TRACES_SAMPLER_ARG, as the specification defines them; the
// default when it is unset. A sampler the facade does not know, or a
// ratio that is not a number from 0 to 1, is an error naming the
// variable: the specification would fall back to the default, which
// would trace every request of an operator who asked for a tenth.
func samplerFromEnv(getenv func(string) string) (sdktrace.Sampler, error) {
	name := strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_SAMPLER")))
	switch name {
	case "", "parentbased_always_on":
		return defaultSampler(), nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "traceidratio", "parentbased_traceidratio":
		ratio, err := ratioFromEnv(getenv)
		if err != nil {
			return nil, err
		}
		if name == "traceidratio" {
			return sdktrace.TraceIDRatioBased(ratio), nil
		}
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio)), nil
	}
	return nil, fmt.Errorf("OTEL_TRACES_SAMPLER=%q: want always_on, always_off, traceidratio, parentbased_always_on (the default), parentbased_always_off or parentbased_traceidratio", name)
}

// ratioFromEnv is the share of traces a ratio sampler keeps,
// OTEL_TRACES_SAMPLER_ARG: all of them when it is unset.
func ratioFromEnv(getenv func(string) string) (float64, error) {
	s := strings.TrimSpace(getenv("OTEL_TRACES_SAMPLER_ARG"))
	if s == "" {
		return 1, nil
	}
	ratio, err := strconv.ParseFloat(s, 64)
	if err != nil || !(ratio >= 0 && ratio <= 1) { // NaN too
		return 0, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG=%q: want the share of traces kept, from 0 to 1, such as 0.1", s)
	}
	return ratio, nil
}
