package factor

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// checkDivisors compares Divisors(n) with the trial-division oracle.
func checkDivisors(t *testing.T, n uint64) {
	t.Helper()
	got := Divisors(n)
	want := SeedDivisors(n)
	if !slices.Equal(got, want) {
		t.Fatalf("Divisors(%d) = %v, want %v", n, got, want)
	}
}

// checkFactorization verifies, without an oracle, that the factorisation of n
// multiplies back to n, that every factor is prime and primes ascend.
func checkFactorization(t *testing.T, n uint64) {
	t.Helper()
	pps := Factorize(n)
	prod := uint64(1)
	var last uint64
	for _, pp := range pps {
		if pp.Prime <= last {
			t.Fatalf("Factorize(%d) = %v: primes not strictly ascending", n, pps)
		}
		last = pp.Prime
		if !IsPrime(pp.Prime) {
			t.Fatalf("Factorize(%d) = %v: %d is not prime", n, pps, pp.Prime)
		}
		for i := 0; i < pp.Exp; i++ {
			prod *= pp.Prime
		}
	}
	if prod != n {
		t.Fatalf("Factorize(%d) = %v multiplies to %d", n, pps, prod)
	}
	divs := Divisors(n)
	if divs[0] != 1 || divs[len(divs)-1] != n {
		t.Fatalf("Divisors(%d) does not start with 1 and end with n: %v...", n, divs[:min(5, len(divs))])
	}
	for i, d := range divs {
		if n%d != 0 {
			t.Fatalf("Divisors(%d) contains non-divisor %d", n, d)
		}
		if i > 0 && divs[i-1] >= d {
			t.Fatalf("Divisors(%d) not strictly ascending at %d", n, i)
		}
	}
}

func isPrimeTrial(n uint64) bool {
	if n < 2 {
		return false
	}
	for d := uint64(2); d <= n/d; d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}

func TestDivisorsSmallExhaustive(t *testing.T) {
	for n := uint64(1); n <= 5000; n++ {
		checkDivisors(t, n)
		if IsPrime(n) != isPrimeTrial(n) {
			t.Fatalf("IsPrime(%d) = %v", n, IsPrime(n))
		}
	}
}

func TestDivisorsRandomProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	iters := 3000
	if testing.Short() {
		iters = 300
	}
	for i := 0; i < iters; i++ {
		n := r.Uint64N(10_000_000) + 1
		checkDivisors(t, n)
	}
}

func TestSpecialCases(t *testing.T) {
	cases := []struct {
		name   string
		n      uint64
		oracle bool // small enough for the O(sqrt n) oracle
		prime  bool
	}{
		{"one", 1, true, false},
		{"two", 2, true, true},
		{"prime 997", 997, true, true},
		{"prime 1_000_003", 1_000_003, true, true},
		{"carmichael 561", 561, true, false},
		{"carmichael 41041", 41041, true, false},
		{"square of prime", 1_000_003 * 1_000_003, true, false},
		{"cube of prime", 10_007 * 10_007 * 10_007, true, false},
		{"10^12", 1_000_000_000_000, true, false},
		{"2^40", 1 << 40, true, false},
		{"highly composite 963761198400", 963761198400, true, false},
		{"largest prime below 2^32", 4294967291, true, true},
		{"two large primes (1e12 range)", 999_983 * 1_000_003, true, false},
		{"2^63", 1 << 63, false, false},
		{"2^63-1", 1<<63 - 1, false, false},
		{"2^63+1", 1<<63 + 1, false, false},
		{"largest prime below 2^64", 18446744073709551557, false, true},
		{"max uint64", math.MaxUint64, false, false},
		{"semiprime 2^32-range primes", 4294967291 * 4294967279, false, false},
		{"square of 2^32-range prime", 4294967291 * 4294967291, false, false},
		{"strong pseudoprime to bases 2..37 product check", 3825123056546413051, false, false},
		{"highly composite 18401055938125660800", 18401055938125660800, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if IsPrime(c.n) != c.prime {
				t.Fatalf("IsPrime(%d) = %v, want %v", c.n, !c.prime, c.prime)
			}
			checkFactorization(t, c.n)
			if c.oracle {
				checkDivisors(t, c.n)
			}
			if c.prime && len(Divisors(c.n)) != 2 {
				t.Fatalf("prime %d has divisors %v", c.n, Divisors(c.n))
			}
		})
	}
}

func TestHighlyCompositeCount(t *testing.T) {
	// 18401055938125660800 is the largest highly composite number below
	// 2^64: 2^7·3^4·5^2·7^2·11·13·17·19·23·29·31·37·41, 184320 divisors.
	n := uint64(18401055938125660800)
	want := 1
	for _, pp := range Factorize(n) {
		want *= pp.Exp + 1
	}
	if got := len(Divisors(n)); got != want || got != 184320 {
		t.Fatalf("len(Divisors(%d)) = %d, want %d (184320)", n, got, want)
	}
}

func TestRandomLargeFactorization(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 500; i++ {
		checkFactorization(t, r.Uint64()|1)
		checkFactorization(t, r.Uint64())
	}
	// Products of two random primes near 2^31 (hard case for rho).
	for i := 0; i < 50; i++ {
		p := nextPrime(r.Uint64N(1<<31) + 1<<31)
		q := nextPrime(r.Uint64N(1<<31) + 1<<31)
		pps := Factorize(p * q)
		if p == q {
			if len(pps) != 1 || pps[0].Exp != 2 {
				t.Fatalf("Factorize(%d^2) = %v", p, pps)
			}
			continue
		}
		lo, hi := min(p, q), max(p, q)
		want := []PrimePower{{lo, 1}, {hi, 1}}
		if !slices.Equal(pps, want) {
			t.Fatalf("Factorize(%d*%d) = %v, want %v", p, q, pps, want)
		}
	}
}

func nextPrime(n uint64) uint64 {
	for !IsPrime(n) {
		n++
	}
	return n
}

func TestZero(t *testing.T) {
	if Divisors(0) != nil || Factorize(0) != nil || SeedDivisors(0) != nil {
		t.Fatal("zero must yield nil")
	}
}
