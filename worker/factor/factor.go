// Package factor computes the prime factorisation and all divisors of 64-bit
// unsigned integers.
//
// Primality is decided by a deterministic Miller-Rabin test (bases 2..37 are
// a proven witness set for every n < 2^64) with 128-bit modular
// multiplication from math/bits. Composite numbers are split by trial
// division over the primes below 1,000 and then by Pollard's rho with
// Brent's cycle detection. The functions are pure, allocation-light and safe
// for concurrent use.
package factor

import (
	"math/bits"
	"slices"
)

// PrimePower is one term p^k of a prime factorisation.
type PrimePower struct {
	Prime uint64
	Exp   int
}

// smallPrimes are the primes below trialLimit, used for trial division.
var smallPrimes = func() []uint64 {
	sieve := make([]bool, trialLimit)
	var ps []uint64
	for i := 2; i < trialLimit; i++ {
		if sieve[i] {
			continue
		}
		ps = append(ps, uint64(i))
		for j := i * i; j < trialLimit; j += i {
			sieve[j] = true
		}
	}
	return ps
}()

const trialLimit = 1000

// mrBases is a deterministic Miller-Rabin witness set for all n < 2^64.
var mrBases = [...]uint64{2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}

// mulmod returns a*b mod m without overflow. It requires a, b < m.
func mulmod(a, b, m uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	_, rem := bits.Div64(hi, lo, m) // hi < m because a, b < m
	return rem
}

// addmod returns a+b mod m. It requires a, b < m.
func addmod(a, b, m uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 || s >= m {
		s -= m
	}
	return s
}

// powmod returns b^e mod m. It requires m > 1.
func powmod(b, e, m uint64) uint64 {
	r := uint64(1)
	b %= m
	for e > 0 {
		if e&1 == 1 {
			r = mulmod(r, b, m)
		}
		b = mulmod(b, b, m)
		e >>= 1
	}
	return r
}

// IsPrime reports whether n is prime. It is exact for every uint64.
func IsPrime(n uint64) bool {
	if n < 2 {
		return false
	}
	for _, p := range smallPrimes[:12] {
		if n == p {
			return true
		}
		if n%p == 0 {
			return false
		}
	}
	if n < 41*41 {
		return true
	}
	d := n - 1
	s := bits.TrailingZeros64(d)
	d >>= uint(s)
	for _, a := range mrBases {
		x := powmod(a, d, n)
		if x == 1 || x == n-1 {
			continue
		}
		composite := true
		for r := 1; r < s; r++ {
			x = mulmod(x, x, n)
			if x == n-1 {
				composite = false
				break
			}
		}
		if composite {
			return false
		}
	}
	return true
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func absdiff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}

// brent returns a non-trivial factor of the odd composite n, or n if the
// walk with constant c failed (the caller retries with another c).
func brent(n, c uint64) uint64 {
	const m = 128
	f := func(x uint64) uint64 { return addmod(mulmod(x, x, n), c, n) }
	y, g, r, q := uint64(2)%n, uint64(1), 1, uint64(1)
	var x, ys uint64
	for g == 1 {
		x = y
		for i := 0; i < r; i++ {
			y = f(y)
		}
		for k := 0; k < r && g == 1; k += m {
			ys = y
			for i := 0; i < min(m, r-k); i++ {
				y = f(y)
				q = mulmod(q, absdiff(x, y), n)
			}
			g = gcd(q, n)
		}
		r *= 2
	}
	if g == n {
		// The product collapsed to 0 mod n: step back one at a time.
		for {
			ys = f(ys)
			g = gcd(absdiff(x, ys), n)
			if g > 1 {
				break
			}
		}
	}
	return g
}

// splitPrimes appends the prime factors (with repetition) of n > 1, which has
// no prime factor below trialLimit, to out.
func splitPrimes(n uint64, out []uint64) []uint64 {
	if n == 1 {
		return out
	}
	if IsPrime(n) {
		return append(out, n)
	}
	// Perfect squares are common in inputs and slow for rho; take the root.
	if r := isqrt(n); r*r == n {
		out = splitPrimes(r, out)
		return splitPrimes(r, out)
	}
	for c := uint64(1); ; c++ {
		d := brent(n, c%n)
		if d != 1 && d != n {
			out = splitPrimes(d, out)
			return splitPrimes(n/d, out)
		}
	}
}

// isqrt returns floor(sqrt(n)).
func isqrt(n uint64) uint64 {
	if n < 2 {
		return n
	}
	// Newton's method from a power-of-two upper bound.
	x := uint64(1) << uint((bits.Len64(n)+1)/2)
	for {
		y := (x + n/x) / 2
		if y >= x {
			return x
		}
		x = y
	}
}

// Factorize returns the prime factorisation of n in ascending order of
// primes. Factorize(0) and Factorize(1) return nil.
func Factorize(n uint64) []PrimePower {
	if n < 2 {
		return nil
	}
	var pps []PrimePower
	for _, p := range smallPrimes {
		if p*p > n {
			break
		}
		if n%p != 0 {
			continue
		}
		e := 0
		for n%p == 0 {
			n /= p
			e++
		}
		pps = append(pps, PrimePower{Prime: p, Exp: e})
	}
	if n == 1 {
		return pps
	}
	if n < trialLimit*trialLimit {
		// No factor below trialLimit, so n is prime.
		return append(pps, PrimePower{Prime: n, Exp: 1})
	}
	primes := splitPrimes(n, make([]uint64, 0, 8))
	slices.Sort(primes)
	for _, p := range primes {
		if k := len(pps); k > 0 && pps[k-1].Prime == p {
			pps[k-1].Exp++
			continue
		}
		pps = append(pps, PrimePower{Prime: p, Exp: 1})
	}
	return pps
}

// Divisors returns every divisor of n, sorted ascending, including 1 and n.
// Divisors(1) is [1]; Divisors(0) is nil (every integer divides 0).
func Divisors(n uint64) []uint64 {
	if n == 0 {
		return nil
	}
	pps := Factorize(n)
	count := 1
	for _, pp := range pps {
		count *= pp.Exp + 1
	}
	divs := make([]uint64, 1, count)
	divs[0] = 1
	for _, pp := range pps {
		prev := len(divs)
		mul := uint64(1)
		for e := 0; e < pp.Exp; e++ {
			mul *= pp.Prime
			for _, d := range divs[:prev] {
				divs = append(divs, d*mul)
			}
		}
	}
	slices.Sort(divs)
	return divs
}

// SeedDivisors is the seed application's algorithm (trial division up to
// sqrt(n), collecting each divisor pair), kept as the benchmark baseline and
// as a test oracle. It returns the divisors sorted ascending. It is O(sqrt n):
// do not call it on large inputs outside benchmarks.
func SeedDivisors(n uint64) []uint64 {
	if n == 0 {
		return nil
	}
	var lo, hi []uint64
	for x := uint64(1); x <= n/x; x++ {
		if n%x == 0 {
			lo = append(lo, x)
			if x != n/x {
				hi = append(hi, n/x)
			}
		}
	}
	slices.Reverse(hi)
	return append(lo, hi...)
}
