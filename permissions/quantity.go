package permissions

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Kubernetes-style quantities, hand-written: k8s.io/apimachinery's
// resource.Quantity is the reference but pulls in most of apimachinery, and
// the small unit libraries read units differently (go-humanize and
// docker/go-units ignore case, so "m" is mega there and milli here).
//
//	quantity ::= number suffix
//	number   ::= digits | digits "." digits | digits "." | "." digits
//	suffix   ::= "" | Ki | Mi | Gi | Ti | Pi | Ei | m | k | M | G | T | P | E
//	           | ("e" | "E") ["+" | "-"] digits
//
// Unlike Kubernetes, a sign is not accepted (no limit is negative) and
// values are exact: a result that is not a whole number of bytes or
// millicores is an error, not rounded.

// maxQuantityLen bounds the work a hostile quantity can cause: with at most
// this many digits and a three-digit exponent the arithmetic stays small.
const maxQuantityLen = 64

type suffixKind int

const (
	suffixNone suffixKind = iota
	suffixBinary
	suffixDecimal
	suffixMilli
	suffixExponent
)

var binarySuffixes = map[string]uint{"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}

var decimalSuffixes = map[string]int{"k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}

// parseQuantity returns the exact value of s and the kind of its suffix, or
// the reason s is not a quantity.
func parseQuantity(s string) (*big.Rat, suffixKind, string) {
	switch {
	case s == "":
		return nil, 0, "is empty"
	case len(s) > maxQuantityLen:
		return nil, 0, "is too long"
	case s[0] == '-':
		return nil, 0, "must not be negative"
	case s[0] == '+':
		return nil, 0, "must be written without a sign"
	}
	i := digits(s, 0)
	whole := s[:i]
	var frac string
	if i < len(s) && s[i] == '.' {
		j := digits(s, i+1)
		frac, i = s[i+1:j], j
	}
	if whole == "" && frac == "" {
		return nil, 0, "must start with a number"
	}
	mantissa, _ := new(big.Int).SetString(whole+frac, 10) // only digits, so it parses
	exp10, exp2 := -len(frac), uint(0)
	kind := suffixNone
	switch suffix := s[i:]; {
	case suffix == "":
	case suffix == "m":
		kind, exp10 = suffixMilli, exp10-3
	case binarySuffixes[suffix] > 0:
		kind, exp2 = suffixBinary, binarySuffixes[suffix]
	case decimalSuffixes[suffix] > 0:
		kind, exp10 = suffixDecimal, exp10+decimalSuffixes[suffix]
	case suffix[0] == 'e' || suffix[0] == 'E':
		e, err := strconv.Atoi(suffix[1:])
		if err != nil || len(suffix) > 5 {
			return nil, 0, "has a malformed exponent " + quote(suffix)
		}
		kind, exp10 = suffixExponent, exp10+e
	case strings.HasSuffix(suffix, "B") || strings.HasSuffix(suffix, "b"):
		return nil, 0, "has the suffix " + quote(suffix) + `; quantities have no B: write "M" (10^6 bytes) or "Mi" (2^20 bytes)`
	default:
		return nil, 0, "has an unknown suffix " + quote(suffix) + "; allowed: Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P, E, or an exponent such as e6"
	}
	v := new(big.Rat).SetInt(mantissa)
	pow := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(exp10))), nil)
	if exp10 >= 0 {
		v.Mul(v, new(big.Rat).SetInt(pow))
	} else {
		v.Quo(v, new(big.Rat).SetInt(pow))
	}
	v.Mul(v, new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), exp2)))
	return v, kind, ""
}

// ParseBytes reads a byte quantity the way limits.memory is read when it
// is a string: a Kubernetes quantity such as "64Mi", "1G" or "1000000".
// Other wasmgate formats with sizes (the trust policy's layers.maxBytes)
// use it so that one size means the same everywhere.
func ParseBytes(s string) (uint64, error) {
	n, reason := parseMemory(s)
	if reason != "" {
		return 0, fmt.Errorf("%q %s", clip(s), reason)
	}
	return n, nil
}

// parseMemory reads a memory limit in bytes. The reason, if any, reads
// after the quoted value.
func parseMemory(s string) (uint64, string) {
	v, kind, reason := parseQuantity(s)
	switch {
	case reason != "":
		return 0, reason
	case kind == suffixMilli:
		return 0, `uses m, which is milli; for megabytes write "M" (10^6) or "Mi" (2^20)`
	case !v.IsInt():
		return 0, "is not a whole number of bytes"
	case v.Sign() == 0:
		return 0, "must be greater than zero"
	case v.Num().BitLen() > 64:
		return 0, "is more than 2^64-1 bytes"
	}
	return v.Num().Uint64(), ""
}

// parseCPU reads a CPU limit in millicores: "2" or "0.5" cores, "500m".
func parseCPU(s string) (int64, string) {
	v, kind, reason := parseQuantity(s)
	switch {
	case reason != "":
		return 0, reason
	case kind == suffixBinary || kind == suffixDecimal:
		return 0, `is not a CPU amount; write cores ("2", "0.5") or millicores ("500m")`
	}
	milli := new(big.Rat).Mul(v, big.NewRat(1000, 1))
	switch {
	case !milli.IsInt():
		return 0, "is finer than one millicore (1m)"
	case milli.Sign() == 0:
		return 0, "must be greater than zero"
	case milli.Num().BitLen() > 63:
		return 0, "is too large"
	}
	return milli.Num().Int64(), ""
}

func digits(s string, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
