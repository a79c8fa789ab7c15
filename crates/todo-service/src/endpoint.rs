//! The three endpoints of the public API, as the pools, the handlers and the metrics name them.
//! A module of its own so that each of those depends on it, not on one another.

/// The three endpoints. Each one's queries go through
/// [`crate::pools::Pools::for_endpoint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Login,
    CreateTodo,
    ListTodos,
}

impl Endpoint {
    /// The `endpoint` label value in metrics and k6 tags.
    pub fn label(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::CreateTodo => "create_todo",
            Self::ListTodos => "list_todos",
        }
    }
}
