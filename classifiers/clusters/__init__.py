"""Appearances grouped for naming in bulk (issue 25): face tracks, or shots, clustered across a collection."""
