package plan

import (
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"opfacade/model"
)

// args are a field's arguments, coerced as gqlgen's generated code
// coerces them: once, when compiled, if they name no variable; from the
// variables at each run otherwise.
type args struct {
	field   *ast.Field
	varying bool
	fixed   argValues
	err     error // fixed arguments that do not coerce: every run falls back
}

// argValues are the arguments of the fields that take some.
type argValues struct {
	id       string             // Query.staff
	statuses []model.ChatStatus // Staff.chats, Staff.chatsConnection
	first    *int               // Staff.chatsConnection
	after    *string
}

func newArgs(f *ast.Field) args {
	a := args{field: f, varying: hasVariables(f.Arguments)}
	if !a.varying {
		a.fixed, a.err = coerce(f.ArgumentMap(nil))
	}
	return a
}

// values are the arguments for a run with vars. The fixed ones are
// shared by every run: the resolvers only read them.
func (a *args) values(vars map[string]any) (argValues, error) {
	if !a.varying {
		return a.fixed, a.err
	}
	return coerce(a.field.ArgumentMap(vars))
}

// coerce reads raw, the arguments with their defaults (ast's
// ArgumentMap), as graphql.ProcessArgField and the generated
// unmarshalers do: an argument left out is its type's zero value.
func coerce(raw map[string]any) (argValues, error) {
	var a argValues
	var err error
	if v, ok := raw["id"]; ok {
		if a.id, err = graphql.UnmarshalID(v); err != nil {
			return a, err
		}
	}
	if v, ok := raw["status"]; ok {
		list := graphql.CoerceList(v)
		a.statuses = make([]model.ChatStatus, len(list))
		for i, s := range list {
			name, err := graphql.UnmarshalString(s)
			if err != nil {
				return a, err
			}
			a.statuses[i] = chatStatusValue(name)
		}
	}
	if v, ok := raw["first"]; ok && v != nil {
		n, err := graphql.UnmarshalInt(v)
		if err != nil {
			return a, err
		}
		a.first = &n
	}
	if v, ok := raw["after"]; ok && v != nil {
		s, err := graphql.UnmarshalString(v)
		if err != nil {
			return a, err
		}
		a.after = &s
	}
	return a, nil
}

// chatStatusValue is the ChatStatus the schema's enum value name stands
// for; the zero value for any other name, as gqlgen's map lookup gives.
func chatStatusValue(name string) model.ChatStatus {
	switch s := model.ChatStatus(name); s {
	case model.ChatStatusWait, model.ChatStatusService, model.ChatStatusClosed, model.ChatStatusUnknown:
		return s
	}
	return ""
}

// hasVariables reports whether any of args names a variable.
func hasVariables(args ast.ArgumentList) bool {
	for _, a := range args {
		if valueHasVariable(a.Value) {
			return true
		}
	}
	return false
}

func valueHasVariable(v *ast.Value) bool {
	if v == nil {
		return false
	}
	if v.Kind == ast.Variable {
		return true
	}
	for _, c := range v.Children {
		if valueHasVariable(c.Value) {
			return true
		}
	}
	return false
}
