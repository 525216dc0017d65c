//! infrafi-api
