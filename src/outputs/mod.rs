//! The outputs (the last stage): every document's `<stem>_qa.json`, rendered from the
//! checkpoint ([`qa_files`]), and training files written through a format plugin
//! ([`training_file`]).

pub mod qa_files;
pub mod training_file;
