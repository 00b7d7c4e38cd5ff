package resolvers

import (
	"context"

	"opfacade/domain"
	"opfacade/model"
)

// Caller answers Query.me: the OP the request runs on behalf of.
func (r *Resolver) Caller(ctx context.Context) (*model.Staff, error) {
	caller, err := domain.Caller(ctx)
	if err != nil {
		return nil, err
	}
	return staffModel(caller), nil
}

// StaffByID answers Query.staff: the OP with this id, if the caller may see them: an ADMIN
// sees every OP, anyone else only themself. Nil when there is none.
func (r *Resolver) StaffByID(ctx context.Context, id string) (*model.Staff, error) {
	caller, err := domain.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if id == caller.ID {
		return r.Caller(ctx)
	}
	if !caller.IsAdmin() {
		return nil, domain.Errorf(domain.EFORBIDDEN, "only an ADMIN may look at another OP")
	}
	// Read at once rather than through the loader, whose batching window
	// nothing else would join.
	found, err := r.Store.StaffByIDs(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	s, ok := found[id]
	if !ok {
		return nil, nil
	}
	return staffModel(s), nil
}

// staffModel is s as the schema shows them.
func staffModel(s domain.Staff) *model.Staff {
	return &model.Staff{ID: s.ID, Name: s.Name, Role: staffRole(s.Role), IsOnline: s.Online}
}

// staffRole maps a stored role to the schema's enum. An unknown stored
// role gets the least privilege.
func staffRole(r domain.Role) model.StaffRole {
	if r == domain.RoleAdmin {
		return model.StaffRoleAdmin
	}
	return model.StaffRoleOP
}
