package store

import (
	"fmt"
	"math/bits"
	"strconv"
)

// MaxItemBytes is DynamoDB's item size limit (400 KB, counted as 400 x 1024
// bytes: attribute names plus values).
const MaxItemBytes = 400 * 1024

// MaxDivisors returns the largest number of divisors of any n in [1, limit]
// (a highly composite number's, found by a search over prime exponents).
func MaxDivisors(limit uint64) int {
	primes := []uint64{2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53}
	best := 1
	// Exponents are non-increasing along the primes in a number with the
	// most divisors for its size, which bounds the search.
	var walk func(i int, n uint64, maxExp int, d int)
	walk = func(i int, n uint64, maxExp int, d int) {
		best = max(best, d)
		if i == len(primes) {
			return
		}
		p := primes[i]
		for e := 1; e <= maxExp; e++ {
			hi, lo := bits.Mul64(n, p)
			if hi != 0 || lo > limit {
				return
			}
			n = lo
			walk(i+1, n, e, d*(e+1))
		}
	}
	walk(0, 1, 64, 1)
	return best
}

// DynamoDBItemBytesBound is an upper bound of the size of the item of any
// number up to limit, by DynamoDB's size rules: a number takes one byte per
// two significant digits plus one, a list 3 bytes plus one per element,
// names and strings their UTF-8 length. topicLen is the longest source
// topic name (Kafka allows 249).
func DynamoDBItemBytesBound(limit uint64, topicLen int) int {
	digits := len(strconv.FormatUint(limit, 10))
	num := (digits+1)/2 + 1
	const names = len("msg_id") + len("number") + len("factors") + len("topic") + len("partition") + len("offset") + len("processed_at")
	msgID := topicLen + 1 + 10 + 1 + 19 // <topic>-<partition>-<offset>
	processed := len("2006-01-02T15:04:05.999999999Z")
	return names + msgID + num + 3 + MaxDivisors(limit)*(num+1) + topicLen + 2*num + processed
}

// CheckDynamoDBMaxNumber reports an error if a number up to maxNumber can
// have a divisor list too large for one DynamoDB item.
func CheckDynamoDBMaxNumber(maxNumber uint64, topicLen int) error {
	if b := DynamoDBItemBytesBound(maxNumber, topicLen); b > MaxItemBytes {
		return fmt.Errorf("numbers up to %d can have %d divisors, an item of up to %d bytes: above DynamoDB's %d-byte item limit (largest accepted: %d)",
			maxNumber, MaxDivisors(maxNumber), b, MaxItemBytes, LargestDynamoDBMaxNumber(topicLen))
	}
	return nil
}

// LargestDynamoDBMaxNumber returns the largest limit whose items all fit
// (CheckDynamoDBMaxNumber accepts it), by bisection.
func LargestDynamoDBMaxNumber(topicLen int) uint64 {
	lo, hi := uint64(1), ^uint64(0) // lo fits
	if DynamoDBItemBytesBound(hi, topicLen) <= MaxItemBytes {
		return hi
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if DynamoDBItemBytesBound(mid, topicLen) <= MaxItemBytes {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}
