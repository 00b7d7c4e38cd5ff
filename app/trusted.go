package app

import (
	"errors"
	"fmt"

	"opfacade/documents"
)

// trustedDocuments loads the manifest c.TrustedDocuments names; nil when
// it names none.
func (c Config) trustedDocuments() (*documents.Manifest, error) {
	if c.TrustedDocuments == "" {
		if c.TrustedOnly {
			return nil, errors.New("trusted documents only, but no manifest of them: name one (-trusted-documents)")
		}
		return nil, nil
	}
	m, err := documents.Load(c.TrustedDocuments)
	if err != nil {
		return nil, fmt.Errorf("trusted documents: %w", err)
	}
	return m, nil
}

// mustTrustedDocuments is c.trustedDocuments for Handler, which Open
// calls only once the manifest has loaded.
func (c Config) mustTrustedDocuments() *documents.Manifest {
	m, err := c.trustedDocuments()
	if err != nil {
		panic("app: " + err.Error() + " (app.Open reports this as an error)")
	}
	return m
}
