//! The plain logic of supervision: which children a failure restarts, whether a child that
//! stopped is restarted at all, and whether restarts come too fast (so the supervisor gives up
//! and escalates). Time is passed in, so all of it is tested without sleeping; the supervisor
//! actor in `hubwire-actors` owns these values.

mod intensity;
mod plan;

pub use intensity::{Intensity, RestartWindow};
pub use plan::{restart_plan, Exit, RestartPolicy, Strategy};
