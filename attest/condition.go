package attest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/interpreter"
	in_toto "github.com/in-toto/attestation/go/v1"
)

// Budgets of one condition evaluation.
const (
	// DefaultCostLimit is cel-go's runtime cost budget of one evaluation:
	// roughly the number of elementary operations.
	DefaultCostLimit = 100000
	// DefaultEvalTimeout bounds one evaluation in wall-clock time.
	DefaultEvalTimeout = time.Second
)

// Condition is a compiled CEL expression over a statement. It sees
// predicate (a map), predicateType (a string) and subject (a list of
// {name, digest} maps), and must be boolean. A Condition is immutable and
// safe for concurrent use.
type Condition struct {
	src  string
	prog cel.Program
}

// env is built on first use: a run that compiles no condition (every
// command but verify, and verify of a policy without conditions) does not
// pay for it at start-up.
var env = sync.OnceValue(func() *cel.Env {
	e, err := cel.NewEnv(
		cel.Variable("predicate", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("predicateType", cel.StringType),
		cel.Variable("subject", cel.ListType(cel.MapType(cel.StringType, cel.DynType))),
	)
	if err != nil {
		panic(err) // a programming error, caught by every test
	}
	return e
})

// Compile compiles src. Errors are a *ConditionError wrapping
// ErrConditionInvalid, with the line and column of the problem.
func Compile(src string) (*Condition, error) {
	ast, iss := env().Compile(src)
	if iss != nil && iss.Err() != nil {
		ce := &ConditionError{Source: src, Message: iss.Err().Error(), Err: ErrConditionInvalid}
		if errs := iss.Errors(); len(errs) > 0 {
			ce.Message = errs[0].Message
			if loc := errs[0].Location; loc != nil && loc.Line() > 0 {
				ce.Line, ce.Column = loc.Line(), loc.Column()+1 // cel-go's column is 0-based
			}
		}
		return nil, ce
	}
	if !ast.OutputType().IsExactType(cel.BoolType) {
		return nil, &ConditionError{Source: src, Line: 1, Column: 1,
			Message: fmt.Sprintf("the expression is of type %s, not bool", ast.OutputType()), Err: ErrConditionInvalid}
	}
	prog, err := env().Program(ast,
		cel.CostLimit(DefaultCostLimit),
		cel.InterruptCheckFrequency(100),
	)
	if err != nil {
		return nil, &ConditionError{Source: src, Message: err.Error(), Err: ErrConditionInvalid}
	}
	return &Condition{src: src, prog: prog}, nil
}

// MustCompile is Compile for conditions known at build time; it panics
// on an error.
func MustCompile(src string) *Condition {
	c, err := Compile(src)
	if err != nil {
		panic(err)
	}
	return c
}

// String is the condition's source.
func (c *Condition) String() string { return c.src }

// Eval evaluates the condition over stmt within DefaultEvalTimeout.
func (c *Condition) Eval(stmt *in_toto.Statement) (bool, error) {
	return c.EvalContext(context.Background(), stmt)
}

// EvalContext is Eval bounded by ctx as well. An evaluation that runs out
// of cost or time fails with ErrConditionCost; one that fails (a missing
// field, a type error) returns its cel-go error.
func (c *Condition) EvalContext(ctx context.Context, stmt *in_toto.Statement) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, DefaultEvalTimeout)
	defer cancel()
	out, _, err := c.prog.ContextEval(ctx, activation(stmt))
	if err != nil {
		var cancelled interpreter.EvalCancelledError
		if errors.As(err, &cancelled) {
			if cancelled.Cause == interpreter.ContextCancelled && ctx.Err() != nil {
				return false, fmt.Errorf("%w: %q: %w", ErrConditionCost, c.src, ctx.Err())
			}
			return false, fmt.Errorf("%w: %q: %w", ErrConditionCost, c.src, err)
		}
		return false, fmt.Errorf("condition %q: %w", c.src, err)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("condition %q: result %v is not a bool", c.src, out)
	}
	return b, nil
}

// activation is the statement as CEL variables: plain Go maps and lists,
// which cel-go's default adapter understands.
func activation(stmt *in_toto.Statement) map[string]any {
	predicate := map[string]any{}
	if p := stmt.GetPredicate(); p != nil {
		predicate = p.AsMap()
	}
	subjects := make([]any, 0, len(stmt.GetSubject()))
	for _, s := range stmt.GetSubject() {
		d := make(map[string]any, len(s.GetDigest()))
		for k, v := range s.GetDigest() {
			d[k] = v
		}
		subjects = append(subjects, map[string]any{"name": s.GetName(), "digest": d})
	}
	return map[string]any{
		"predicate":     predicate,
		"predicateType": stmt.GetPredicateType(),
		"subject":       subjects,
	}
}
