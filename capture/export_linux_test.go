package capture

// SetUserSpaceFilters makes SetFilter run every filter in user space and
// attach nothing to the socket, for tests on a machine whose kernel
// cannot load BPF programs at the moment.
func SetUserSpaceFilters(on bool) { userSpaceOnly = on }
