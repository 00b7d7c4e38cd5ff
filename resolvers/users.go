package resolvers

import (
	"opfacade/domain"
	"opfacade/model"
)

// user is u as the schema shows them, without their grade.
func (r *Resolver) user(u domain.User) model.User {
	icon := u.IconURL
	if icon == "" {
		icon = r.DefaultIcon
	}
	return model.User{ID: u.ID, NickName: u.NickName, Icon: icon}
}
