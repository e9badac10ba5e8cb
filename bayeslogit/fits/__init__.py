"""The fourth layer, above the rows: what a fit is (results), what follows from it (statistics), its checks
(diagnostics) and how it is saved (storage); a fit holds its model as the interface of :mod:`.model_view`."""
