package factor

import (
	"math/rand/v2"
	"testing"

	"github.com/offsetlag/offsetlag/internal/testing/testenv"
)

// benchInputs are numbers up to 10^12: random values plus the worst case
// for the seed's loop (large primes and semiprimes, which never exit early).
func benchInputs() []uint64 {
	r := rand.New(rand.NewPCG(42, 42))
	in := []uint64{
		999_999_999_989,     // largest prime below 10^12
		999_983 * 1_000_003, // semiprime of two ~10^6 primes
		963_761_198_400,     // highly composite (6720 divisors)
		1_000_000_000_000,
	}
	for len(in) < 32 {
		in = append(in, r.Uint64N(1_000_000_000_000)+1)
	}
	return in
}

var sink []uint64

// BenchmarkDivisors compares Divisors with the seed's sqrt loop on the same
// 32 inputs up to 10^12; one op is one pass over all inputs. Compare the
// ns/op of the two sub-benchmarks for the speed-up.
func BenchmarkDivisors(b *testing.B) {
	in := benchInputs()
	b.Run("algo=rho", func(b *testing.B) {
		for b.Loop() {
			for _, n := range in {
				sink = Divisors(n)
			}
		}
	})
	b.Run("algo=seed_sqrt_loop", func(b *testing.B) {
		for b.Loop() {
			for _, n := range in {
				sink = SeedDivisors(n)
			}
		}
	})
}

// TestBenchInputsAgree makes sure both benchmarked algorithms agree on the
// benchmark inputs, so the speed comparison compares equal work.
func TestBenchInputsAgree(t *testing.T) {
	testenv.SkipShort(t, "O(sqrt n) oracle on 10^12 inputs")
	for _, n := range benchInputs()[:8] {
		checkDivisors(t, n)
	}
}
