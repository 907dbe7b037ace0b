//! Creating a stream, or checking that the one there is the one wanted.

use std::{collections::BTreeSet, time::Duration};

use async_nats::jetstream::{
    self,
    context::{CreateStreamErrorKind, GetStreamErrorKind},
    stream::{Config, StorageType},
};

use super::Error;

/// A JetStream stream as alerts need it: a name, the subjects it captures,
/// how many servers keep a copy, always on disk.
///
/// [`StreamSpec::ensure`] creates it when missing and otherwise checks that
/// the stream there has these subjects, this storage and (when asked for)
/// this number of replicas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamSpec {
    name: String,
    subjects: Vec<String>,
    replicas: Option<usize>,
    duplicate_window: Option<Duration>,
}

impl StreamSpec {
    /// A stream `name` capturing `subject`.
    pub fn new(name: impl Into<String>, subject: impl Into<String>) -> Self {
        StreamSpec {
            name: name.into(),
            subjects: vec![subject.into()],
            replicas: None,
            duplicate_window: None,
        }
    }

    /// Another subject for the stream to capture.
    #[must_use]
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subjects.push(subject.into());
        self
    }

    /// How many servers keep the stream (1 to 5). Without it, a new stream
    /// has one and an existing stream may have any number.
    #[must_use]
    pub fn replicas(mut self, replicas: usize) -> Self {
        self.replicas = Some(replicas);
        self
    }

    /// How long the stream remembers message IDs to drop republished
    /// alerts, for a stream created here (the server's default is two
    /// minutes); not checked on an existing stream.
    #[must_use]
    pub fn duplicate_window(mut self, window: Duration) -> Self {
        self.duplicate_window = Some(window);
        self
    }

    /// The stream's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Creates the stream, or checks the one of that name.
    ///
    /// Two processes ensuring the same stream at once both succeed. A
    /// stream of that name with other subjects, another number of
    /// replicas (when [`StreamSpec::replicas`] was given) or memory
    /// storage is [`Error::StreamMismatch`], naming the setting.
    pub async fn ensure(&self, client: &async_nats::Client) -> Result<(), Error> {
        self.ensure_in(&jetstream::new(client.clone())).await
    }

    pub(crate) async fn ensure_in(&self, js: &jetstream::Context) -> Result<(), Error> {
        if let Some(replicas) = self.replicas {
            if !(1..=5).contains(&replicas) {
                return Err(Error::request(
                    format!("create stream {}", self.name),
                    format!("replicas must be 1 to 5, not {replicas}"),
                ));
            }
        }
        for subject in &self.subjects {
            if !super::subject_is_valid(subject, true) {
                return Err(Error::request(
                    format!("create stream {}", self.name),
                    format!("{subject:?} is not a NATS subject"),
                ));
            }
        }
        if let Some(config) = self.existing(js).await? {
            return self.check(&config);
        }
        let config = Config {
            name: self.name.clone(),
            subjects: self.subjects.clone(),
            num_replicas: self.replicas.unwrap_or(1),
            storage: StorageType::File,
            duplicate_window: self.duplicate_window.unwrap_or(Duration::ZERO),
            ..Config::default()
        };
        match js.create_stream(config).await {
            Ok(_) => Ok(()),
            Err(e) => {
                // Someone else may have created it meanwhile: then it is the
                // existing one that must fit.
                if let Some(config) = self.existing(js).await? {
                    return self.check(&config);
                }
                if let Some(missing) = Error::no_jetstream(js).await {
                    return Err(missing);
                }
                let reason = match e.kind() {
                    CreateStreamErrorKind::JetStream(js) => js.to_string(),
                    _ => e.to_string(),
                };
                Err(Error::request(
                    format!("create stream {}", self.name),
                    reason,
                ))
            }
        }
    }

    /// The configuration of the stream of this name, if there is one.
    async fn existing(&self, js: &jetstream::Context) -> Result<Option<Config>, Error> {
        match js.get_stream(&self.name).await {
            Ok(mut stream) => {
                let info = stream
                    .info()
                    .await
                    .map_err(|e| Error::request(format!("look up stream {}", self.name), e))?;
                Ok(Some(info.config.clone()))
            }
            Err(e) => match e.kind() {
                GetStreamErrorKind::JetStream(js)
                    if js.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND =>
                {
                    Ok(None)
                }
                _ => Err(match Error::no_jetstream(js).await {
                    Some(missing) => missing,
                    None => Error::request(format!("look up stream {}", self.name), e),
                }),
            },
        }
    }

    fn check(&self, config: &Config) -> Result<(), Error> {
        let mismatch = |field, expected: String, found: String| Error::StreamMismatch {
            stream: self.name.clone(),
            field,
            expected,
            found,
        };
        let wanted: BTreeSet<&String> = self.subjects.iter().collect();
        let found: BTreeSet<&String> = config.subjects.iter().collect();
        if wanted != found {
            let list = |s: BTreeSet<&String>| {
                let names: Vec<&str> = s.into_iter().map(String::as_str).collect();
                format!("[{}]", names.join(", "))
            };
            return Err(mismatch("subjects", list(wanted), list(found)));
        }
        if let Some(replicas) = self.replicas {
            if config.num_replicas.max(1) != replicas {
                return Err(mismatch(
                    "replicas",
                    replicas.to_string(),
                    config.num_replicas.max(1).to_string(),
                ));
            }
        }
        if config.storage != StorageType::File {
            return Err(mismatch("storage", "file".into(), "memory".into()));
        }
        Ok(())
    }
}
