package resolvers

import (
	"context"

	"opfacade/auth"
	"opfacade/domain"
	"opfacade/graph/model"
	"opfacade/loader"
	"opfacade/resolvers/view"
)

func (r *Resolver) me(ctx context.Context) (*view.Staff, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	loader.For(ctx).Staff.Prime(caller.ID, caller)
	return staffView(caller), nil
}

// staffView is s as the schema shows it.
func staffView(s domain.Staff) *view.Staff {
	return &view.Staff{Staff: s, SchemaRole: staffRole(s.Role)}
}

// staff returns the OP with this id, if the caller may see them: an ADMIN
// sees every OP, anyone else only themself.
func (r *Resolver) staff(ctx context.Context, id string) (*view.Staff, error) {
	caller, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if id == caller.ID {
		return r.me(ctx)
	}
	if !caller.IsAdmin() {
		return nil, domain.Errorf(domain.EFORBIDDEN, "only an ADMIN may look at another OP")
	}
	found, err := r.Store.StaffByIDs(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	s, ok := found[id]
	if !ok {
		return nil, nil
	}
	loader.For(ctx).Staff.Prime(s.ID, s)
	return staffView(s), nil
}

// loadStaff is the OP serving a chat, read from the request's loader when
// the query asks for them.
func loadStaff(ctx context.Context, l *loader.Loaders, staffID string) func() (*view.Staff, error) {
	return func() (*view.Staff, error) {
		s, err := l.Staff.Load(ctx, staffID)
		if err != nil {
			return nil, ignoreNotFound(err)
		}
		return staffView(s), nil
	}
}

// staffRole maps a stored role to the schema's enum. An unknown stored
// role gets the least privilege.
func staffRole(r domain.Role) model.StaffRole {
	if r == domain.RoleAdmin {
		return model.StaffRoleAdmin
	}
	return model.StaffRoleOp
}
