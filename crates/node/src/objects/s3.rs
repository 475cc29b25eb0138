//! The S3 operations. Each one: who is calling ([`Caller`]), what the decision is ([`ObjectService::decide`],
//! audited), then the store and the crypto on blocking threads. ETags are the hex MD5 of the plaintext for a
//! single PUT or a copy, and for a multipart upload the MD5 of the concatenated binary part MD5s followed by
//! `-<number of parts>` (what AWS S3 computes), so clients that compare ETags with their own MD5 agree.

use std::collections::BTreeMap;

use bytes::Bytes;
use futures::StreamExt as _;
use redoubt_label::Label;
use redoubt_policy::Action;
use redoubt_store::{BucketMeta, ListPage, ObjectMeta, PartMeta, Precondition, StoreError, UploadMeta};
use s3s::dto::*;
use s3s::{S3, S3Error, S3ErrorCode, S3Request, S3Response, S3Result, s3_error};
use tokio::sync::mpsc;

use super::crypt::{self, Chunk, Sealed};
use super::internal::sealed_meta;
use super::labels::{self, CheckedLabel, DEFAULT_LABEL_HEADER, LABEL_META, MARKING_META};
use super::names;
use super::{Caller, MAX_PUT_BYTES, MIN_PART_BYTES, ObjectService, store_error};

/// Header marking a PUT body as a ZTDF the client made itself (value `client`), to be validated and stored opaque.
pub const CLIENT_ZTDF_HEADER: &str = "x-redoubt-ztdf";
/// Largest number of keys in one listing page.
const MAX_KEYS: usize = 1000;
/// Chunks buffered between the network and the sealing thread.
const PIPE: usize = 8;

fn caller<T>(req: &S3Request<T>) -> S3Result<Caller> {
    req.extensions.get::<Caller>().cloned().ok_or_else(|| s3_error!(AccessDenied, "authentication required"))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> S3Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, "blocking task failed");
        S3Error::with_message(S3ErrorCode::InternalError, "the node could not complete the request")
    })
}

fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn timestamp(ms: i64) -> Timestamp {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    Timestamp::from(t)
}

fn ms_of(t: &Timestamp) -> i64 {
    let t: time::OffsetDateTime = t.clone().into();
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn etag(value: &str) -> ETag {
    ETag::Strong(value.to_owned())
}

fn invalid(message: String) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidArgument, message)
}

fn check_key(key: &str) -> S3Result<()> {
    names::check_key(key).map_err(|m| {
        let code = if key.len() > names::MAX_KEY_BYTES {
            S3ErrorCode::KeyTooLongError
        } else {
            S3ErrorCode::InvalidArgument
        };
        S3Error::with_message(code, m)
    })
}

/// S3 conditional-request rules (RFC 9110 §13.2.2 order): If-Match, else If-Unmodified-Since → 412;
/// If-None-Match, else If-Modified-Since → 304 for reads.
fn check_conditions(
    meta: &ObjectMeta,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> S3Result<()> {
    let matches = |c: &ETagCondition| match c {
        ETagCondition::Any => true,
        ETagCondition::ETag(t) => t.value() == meta.etag,
    };
    // HTTP dates have second precision.
    let modified_s = meta.last_modified_unix_ms / 1000;
    if let Some(c) = if_match {
        if !matches(c) {
            return Err(s3_error!(PreconditionFailed, "If-Match: the object's ETag differs"));
        }
    } else if let Some(t) = if_unmodified_since
        && modified_s > ms_of(t) / 1000
    {
        return Err(s3_error!(PreconditionFailed, "If-Unmodified-Since: the object was modified since"));
    }
    if let Some(c) = if_none_match {
        if matches(c) {
            return Err(S3Error::new(S3ErrorCode::NotModified));
        }
    } else if let Some(t) = if_modified_since
        && modified_s <= ms_of(t) / 1000
    {
        return Err(S3Error::new(S3ErrorCode::NotModified));
    }
    Ok(())
}

fn write_precondition(
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
) -> S3Result<Precondition> {
    match (if_match, if_none_match) {
        (None, None) => Ok(Precondition::None),
        (Some(ETagCondition::ETag(t)), None) => Ok(Precondition::IfMatch(t.value().to_owned())),
        (Some(ETagCondition::Any), None) => Ok(Precondition::IfMatch("*".to_owned())),
        (None, Some(ETagCondition::Any)) => Ok(Precondition::IfNoneMatchAny),
        (None, Some(ETagCondition::ETag(_))) => {
            Err(s3_error!(NotImplemented, "If-None-Match on a write accepts only `*`"))
        }
        (Some(_), Some(_)) => {
            Err(s3_error!(InvalidRequest, "If-Match and If-None-Match cannot be combined on a write"))
        }
    }
}

/// The user metadata to store: everything but the node's own names.
fn user_metadata(metadata: Option<&Metadata>) -> BTreeMap<String, String> {
    metadata
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case(LABEL_META) && !k.eq_ignore_ascii_case(MARKING_META))
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The metadata returned with HEAD and GET: the user's, the label (compact JSON) and its marking.
fn shown_metadata(meta: &ObjectMeta) -> Metadata {
    let mut m: Metadata = meta.user_metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    m.insert(LABEL_META.to_owned(), meta.label.clone());
    m.insert(MARKING_META.to_owned(), meta.label_marking.clone());
    m
}

const USER_METADATA_LIMIT: usize = 2048;

fn check_user_metadata(m: &BTreeMap<String, String>) -> S3Result<()> {
    let size: usize = m.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > USER_METADATA_LIMIT {
        return Err(s3_error!(
            MetadataTooLarge,
            "user metadata is {size} bytes; the limit is {USER_METADATA_LIMIT}"
        ));
    }
    Ok(())
}

impl ObjectService {
    /// The label of a write: the header's, else the bucket's default; checked against the SPIF.
    fn write_label(&self, metadata: Option<&Metadata>, bucket: &BucketMeta) -> S3Result<CheckedLabel> {
        let header =
            metadata.and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(LABEL_META)).map(|(_, v)| v));
        match (header, &bucket.default_label) {
            (Some(v), _) => labels::parse(v, self.pdp().spif())
                .map_err(|m| invalid(format!("x-amz-meta-{LABEL_META}: {m}"))),
            (None, Some(stored)) => {
                let label = labels::stored(stored)
                    .map_err(|m| invalid(format!("the bucket's default label: {m}")))?;
                labels::check(label, self.pdp().spif())
                    .map_err(|m| invalid(format!("the bucket's default label: {m}")))
            }
            (None, None) => Err(invalid(format!(
                "the object has no label: send x-amz-meta-{LABEL_META} (base64 STANAG 4774 XML or compact JSON), or \
                 create the bucket with a default label"
            ))),
        }
    }

    async fn bucket_meta(&self, bucket: &str) -> S3Result<BucketMeta> {
        let store = self.store().clone();
        let name = bucket.to_owned();
        blocking(move || store.bucket(&name)).await?.map_err(store_error)
    }

    async fn object_meta(&self, bucket: &str, key: &str) -> S3Result<Result<ObjectMeta, StoreError>> {
        let store = self.store().clone();
        let (b, k) = (bucket.to_owned(), key.to_owned());
        blocking(move || store.object(&b, &k)).await
    }

    /// Reads a body into a new sealed blob. The body must be complete and within `max` bytes.
    async fn seal_body(
        &self,
        body: Option<StreamingBlob>,
        max: u64,
        label: &CheckedLabel,
        mime: Option<String>,
    ) -> S3Result<Sealed> {
        let (tx, rx) = mpsc::channel(PIPE);
        let vault = self.vault();
        let l = label.label.clone();
        let job = tokio::task::spawn_blocking(move || {
            crypt::seal(&vault.store, &vault.keys, &l, mime.as_deref(), rx)
        });
        let failure = pump(body, max, tx).await;
        let sealed = job.await.map_err(|_| S3Error::new(S3ErrorCode::InternalError))?;
        if let Some(f) = failure {
            if let Ok(s) = &sealed {
                self.discard(s.blob.clone()).await;
            }
            return Err(f);
        }
        sealed.map_err(|e| match e {
            crypt::SealError::Incomplete => s3_error!(IncompleteBody, "the request body ended early"),
            crypt::SealError::Rejected(m) => invalid(m),
            crypt::SealError::Failed(m) => {
                tracing::error!(error = %m, "sealing failed");
                S3Error::with_message(S3ErrorCode::InternalError, "the node could not store the object")
            }
        })
    }

    /// Receives a client-made ZTDF into a blob and checks it (see [`crypt::accept_client_ztdf`]).
    async fn accept_client_body(&self, body: Option<StreamingBlob>) -> S3Result<crypt::ClientZtdf> {
        let (tx, rx) = mpsc::channel(PIPE);
        let vault = self.vault();
        let job =
            tokio::task::spawn_blocking(move || crypt::accept_client_ztdf(&vault.store, &vault.keys, rx));
        let failure = pump(body, MAX_PUT_BYTES, tx).await;
        let accepted = job.await.map_err(|_| S3Error::new(S3ErrorCode::InternalError))?;
        if let Some(f) = failure {
            if let Ok(a) = &accepted {
                self.discard(a.blob.clone()).await;
            }
            return Err(f);
        }
        accepted.map_err(|e| match e {
            crypt::SealError::Incomplete => s3_error!(IncompleteBody, "the request body ended early"),
            crypt::SealError::Rejected(m) => invalid(format!("{CLIENT_ZTDF_HEADER}: {m}")),
            crypt::SealError::Failed(m) => {
                tracing::error!(error = %m, "storing a client ZTDF failed");
                S3Error::with_message(S3ErrorCode::InternalError, "the node could not store the object")
            }
        })
    }

    /// PUT of a client-made ZTDF: stored as uploaded once it verifies, under the label it carries.
    async fn put_client_ztdf(
        &self,
        caller: &Caller,
        input: PutObjectInput,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        self.bucket_meta(&input.bucket).await?;
        let user = user_metadata(input.metadata.as_ref());
        check_user_metadata(&user)?;
        let pre = write_precondition(input.if_match.as_ref(), input.if_none_match.as_ref())?;
        let accepted = self.accept_client_body(input.body).await?;
        let label = match labels::check(accepted.label.clone(), self.pdp().spif()) {
            Ok(l) => l,
            Err(m) => {
                self.discard(accepted.blob).await;
                return Err(invalid(format!("{CLIENT_ZTDF_HEADER}: the container's label: {m}")));
            }
        };
        if let Err(e) = self
            .decide(
                caller,
                "s3:PutObject",
                Action::Write,
                &input.bucket,
                Some(&input.key),
                Some((&label.label, &label.marking)),
            )
            .await
        {
            self.discard(accepted.blob).await;
            return Err(e);
        }
        let tag = hex::encode(accepted.md5);
        let meta = ObjectMeta {
            blob: accepted.blob.clone(),
            size: accepted.plaintext_len,
            stored_size: accepted.stored_size,
            etag: tag.clone(),
            last_modified_unix_ms: now_ms(),
            content_type: Some("application/zip".to_owned()),
            user_metadata: user,
            label: label.compact,
            label_marking: label.marking,
            client_ztdf: true,
            parts: 0,
            owner: caller.principal.name.clone(),
        };
        let store = self.store().clone();
        let (b, k) = (input.bucket, input.key);
        if let Err(e) = blocking(move || store.put_object(&b, &k, meta, pre)).await? {
            self.discard(accepted.blob).await;
            return Err(store_error(e));
        }
        Ok(S3Response::new(PutObjectOutput { e_tag: Some(etag(&tag)), ..Default::default() }))
    }

    /// Removes a sealed blob that will not be committed (the next start would remove it anyway).
    async fn discard(&self, blob: String) {
        let store = self.store().clone();
        let _ = blocking(move || store.discard_blob(&blob)).await;
    }

    /// Decrypted plaintext of a stored object, as a response body.
    /// The body of a GET: the plaintext of a stored object, or (`raw`) the stored container's own bytes.
    async fn object_body(
        &self,
        meta: &ObjectMeta,
        raw: bool,
        start: u64,
        len: u64,
    ) -> S3Result<StreamingBlob> {
        let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
        let vault = self.vault();
        let blob = meta.blob.clone();
        let client = raw;
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Result<(), String>>();
        tokio::task::spawn_blocking(move || {
            if client {
                let file = match vault.store.open_blob(&blob) {
                    Ok(f) => f,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                crypt::stream(file, start, len, tx);
            } else {
                match crypt::open(&vault.store, &vault.keys, &blob) {
                    Ok(reader) => {
                        let _ = ready_tx.send(Ok(()));
                        crypt::stream(reader, start, len, tx);
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            }
        });
        match ready_rx.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %e, blob = %meta.blob, "stored object cannot be opened");
                return Err(S3Error::with_message(
                    S3ErrorCode::InternalError,
                    "the stored object failed its integrity check; it was not released",
                ));
            }
            Err(_) => return Err(S3Error::new(S3ErrorCode::InternalError)),
        }
        let stream = tokio_stream_from(rx);
        Ok(StreamingBlob::wrap(stream))
    }
}

/// Feeds a request body to a blocking consumer, at most `max` bytes. Sends [`Chunk::End`] only when the body
/// ended normally; returns the client's error otherwise (the consumer then sees a closed channel and keeps
/// nothing). A consumer that stops early reports its own error when joined.
async fn pump(body: Option<StreamingBlob>, max: u64, tx: mpsc::Sender<Chunk>) -> Option<S3Error> {
    let mut total: u64 = 0;
    if let Some(mut body) = body {
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(bytes) => {
                    total += bytes.len() as u64;
                    if total > max {
                        return Some(s3_error!(EntityTooLarge, "the body is larger than {max} bytes"));
                    }
                    if tx.send(Chunk::Data(bytes)).await.is_err() {
                        return None;
                    }
                }
                Err(e) => return Some(s3_error!(IncompleteBody, "the request body could not be read: {e}")),
            }
        }
    }
    let _ = tx.send(Chunk::End).await;
    None
}

/// A label read back from the index; unreadable means the index is damaged (a server error, never the client's).
fn stored_label(compact: &str) -> S3Result<Label> {
    labels::stored(compact).map_err(|m| S3Error::with_message(S3ErrorCode::InternalError, m))
}

fn tokio_stream_from(
    mut rx: mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send + Sync + 'static {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

fn list_output(page: ListPage) -> (Vec<Object>, Vec<CommonPrefix>) {
    let objects = page
        .objects
        .into_iter()
        .map(|(key, m)| Object {
            key: Some(key),
            size: Some(i64::try_from(m.size).unwrap_or(i64::MAX)),
            e_tag: Some(etag(&m.etag)),
            last_modified: Some(timestamp(m.last_modified_unix_ms)),
            storage_class: Some(ObjectStorageClass::from_static(ObjectStorageClass::STANDARD)),
            ..Default::default()
        })
        .collect();
    let prefixes = page.common_prefixes.into_iter().map(|p| CommonPrefix { prefix: Some(p) }).collect();
    (objects, prefixes)
}

#[async_trait::async_trait]
impl S3 for ObjectService {
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let caller = caller(&req)?;
        let bucket = req.input.bucket.clone();
        names::check_bucket(&bucket).map_err(|m| S3Error::with_message(S3ErrorCode::InvalidBucketName, m))?;
        let default_label = match req.headers.get(DEFAULT_LABEL_HEADER) {
            Some(v) => {
                let text = v.to_str().map_err(|_| invalid(format!("{DEFAULT_LABEL_HEADER} is not ASCII")))?;
                Some(
                    labels::parse(text, self.pdp().spif())
                        .map_err(|m| invalid(format!("{DEFAULT_LABEL_HEADER}: {m}")))?,
                )
            }
            None => None,
        };
        let label = default_label.as_ref().map(|l| (&l.label, l.marking.as_str()));
        self.decide(&caller, "s3:CreateBucket", Action::CreateBucket, &bucket, None, label).await?;
        let meta = BucketMeta {
            created_unix_ms: now_ms(),
            default_label: default_label.map(|l| l.compact),
            owner: caller.principal.name.clone(),
        };
        let store = self.store().clone();
        let name = bucket.clone();
        blocking(move || store.create_bucket(&name, meta)).await?.map_err(store_error)?;
        Ok(S3Response::new(CreateBucketOutput { location: Some(format!("/{bucket}")) }))
    }

    async fn head_bucket(&self, req: S3Request<HeadBucketInput>) -> S3Result<S3Response<HeadBucketOutput>> {
        let caller = caller(&req)?;
        let bucket = req.input.bucket;
        self.decide(&caller, "s3:HeadBucket", Action::List, &bucket, None, None).await?;
        self.bucket_meta(&bucket).await?;
        Ok(S3Response::new(HeadBucketOutput::default()))
    }

    async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let caller = caller(&req)?;
        self.decide(&caller, "s3:ListAllMyBuckets", Action::List, "", None, None).await?;
        let store = self.store().clone();
        let all = blocking(move || store.list_buckets()).await?.map_err(store_error)?;
        let buckets = all
            .into_iter()
            .map(|(name, m)| Bucket {
                name: Some(name),
                creation_date: Some(timestamp(m.created_unix_ms)),
                bucket_region: None,
            })
            .collect();
        Ok(S3Response::new(ListBucketsOutput { buckets: Some(buckets), ..Default::default() }))
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        let caller = caller(&req)?;
        let bucket = req.input.bucket;
        self.decide(&caller, "s3:DeleteBucket", Action::DeleteBucket, &bucket, None, None).await?;
        let store = self.store().clone();
        blocking(move || store.delete_bucket(&bucket)).await?.map_err(store_error)?;
        Ok(S3Response::new(DeleteBucketOutput::default()))
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        let caller = caller(&req)?;
        let bucket = req.input.bucket;
        self.decide(&caller, "s3:GetBucketLocation", Action::List, &bucket, None, None).await?;
        self.bucket_meta(&bucket).await?;
        Ok(S3Response::new(GetBucketLocationOutput::default()))
    }

    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        let caller = caller(&req)?;
        let client_made = match req.headers.get(CLIENT_ZTDF_HEADER).map(|v| v.as_bytes()) {
            None => false,
            Some(b"client") => true,
            Some(_) => return Err(invalid(format!("{CLIENT_ZTDF_HEADER} takes one value: `client`"))),
        };
        let input = req.input;
        check_key(&input.key)?;
        if client_made {
            return self.put_client_ztdf(&caller, input).await;
        }
        let bucket = self.bucket_meta(&input.bucket).await?;
        let label = self.write_label(input.metadata.as_ref(), &bucket)?;
        let user = user_metadata(input.metadata.as_ref());
        check_user_metadata(&user)?;
        let pre = write_precondition(input.if_match.as_ref(), input.if_none_match.as_ref())?;
        if let Some(len) = input.content_length
            && u64::try_from(len).unwrap_or(u64::MAX) > MAX_PUT_BYTES
        {
            return Err(s3_error!(
                EntityTooLarge,
                "objects larger than {MAX_PUT_BYTES} bytes need a multipart upload"
            ));
        }
        self.decide(
            &caller,
            "s3:PutObject",
            Action::Write,
            &input.bucket,
            Some(&input.key),
            Some((&label.label, &label.marking)),
        )
        .await?;
        let sealed = self.seal_body(input.body, MAX_PUT_BYTES, &label, input.content_type.clone()).await?;
        if let Some(len) = input.content_length
            && u64::try_from(len).ok() != Some(sealed.size)
        {
            self.discard(sealed.blob).await;
            return Err(s3_error!(IncompleteBody, "the body length differs from Content-Length"));
        }
        let meta =
            sealed_meta(&sealed, label, input.content_type, user, caller.principal.name.clone(), now_ms());
        let tag = meta.etag.clone();
        let store = self.store().clone();
        let (b, k) = (input.bucket, input.key);
        let committed = blocking(move || store.put_object(&b, &k, meta, pre)).await?;
        if let Err(e) = committed {
            self.discard(sealed.blob).await;
            return Err(store_error(e));
        }
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(etag(&tag)),
            size: Some(i64::try_from(sealed.size).unwrap_or(i64::MAX)),
            ..Default::default()
        }))
    }

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        let caller = caller(&req)?;
        // `x-redoubt-ztdf: container` asks for the stored ZTDF container itself (`redoubt get`): the same decision
        // and audit as a GET, but the payload key stays wrapped, to be released by the KAS's own decision.
        let container = match req.headers.get(CLIENT_ZTDF_HEADER).map(|v| v.as_bytes()) {
            None => false,
            Some(b"container") => true,
            Some(_) => {
                return Err(invalid(format!(
                    "{CLIENT_ZTDF_HEADER} on a GET takes one value: `container` (the stored ZTDF itself)"
                )));
            }
        };
        let input = req.input;
        let meta = self.decided(&caller, "s3:GetObject", Action::Read, &input.bucket, &input.key).await?;
        check_conditions(
            &meta,
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        )?;
        let raw = container || meta.client_ztdf;
        let full = if raw { meta.stored_size } else { meta.size };
        let (start, len, content_range) = match &input.range {
            None => (0, full, None),
            Some(r) => {
                let range = r
                    .check(full)
                    .map_err(|_| s3_error!(InvalidRange, "the range is outside the object ({full} bytes)"))?;
                let len = range.end - range.start;
                (range.start, len, Some(format!("bytes {}-{}/{full}", range.start, range.end - 1)))
            }
        };
        let body = self.object_body(&meta, raw, start, len).await?;
        // The ETag and content type describe the plaintext; the container of a node-encrypted object is other bytes.
        let wrapped = container && !meta.client_ztdf;
        Ok(S3Response::new(GetObjectOutput {
            body: Some(body),
            content_length: Some(i64::try_from(len).unwrap_or(i64::MAX)),
            content_range,
            accept_ranges: Some("bytes".to_owned()),
            content_type: if wrapped {
                Some("application/zip".to_owned())
            } else {
                meta.content_type.clone()
            },
            e_tag: (!wrapped).then(|| etag(&meta.etag)),
            last_modified: Some(timestamp(meta.last_modified_unix_ms)),
            metadata: Some(shown_metadata(&meta)),
            parts_count: (meta.parts > 0).then(|| i32::try_from(meta.parts).unwrap_or(i32::MAX)),
            ..Default::default()
        }))
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        let caller = caller(&req)?;
        let input = req.input;
        let meta =
            self.decided(&caller, "s3:HeadObject", Action::ReadLabel, &input.bucket, &input.key).await?;
        check_conditions(
            &meta,
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        )?;
        let full = if meta.client_ztdf { meta.stored_size } else { meta.size };
        Ok(S3Response::new(HeadObjectOutput {
            content_length: Some(i64::try_from(full).unwrap_or(i64::MAX)),
            accept_ranges: Some("bytes".to_owned()),
            content_type: meta.content_type.clone(),
            e_tag: Some(etag(&meta.etag)),
            last_modified: Some(timestamp(meta.last_modified_unix_ms)),
            metadata: Some(shown_metadata(&meta)),
            parts_count: (meta.parts > 0).then(|| i32::try_from(meta.parts).unwrap_or(i32::MAX)),
            ..Default::default()
        }))
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let caller = caller(&req)?;
        let input = req.input;
        let existing = self.object_meta(&input.bucket, &input.key).await?;
        match existing {
            Ok(meta) => {
                let label = labels::stored(&meta.label)
                    .map_err(|m| S3Error::with_message(S3ErrorCode::InternalError, m))?;
                self.decide(
                    &caller,
                    "s3:DeleteObject",
                    Action::Delete,
                    &input.bucket,
                    Some(&input.key),
                    Some((&label, &meta.label_marking)),
                )
                .await?;
                let store = self.store().clone();
                let (b, k) = (input.bucket, input.key);
                blocking(move || store.delete_object(&b, &k)).await?.map_err(store_error)?;
            }
            Err(StoreError::NoSuchKey { .. }) => {
                // Deleting nothing succeeds in S3; still decided and audited.
                self.decide(&caller, "s3:DeleteObject", Action::List, &input.bucket, Some(&input.key), None)
                    .await?;
            }
            Err(e) => return Err(store_error(e)),
        }
        Ok(S3Response::new(DeleteObjectOutput::default()))
    }

    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let caller = caller(&req)?;
        let input = req.input;
        if input.delete.objects.len() > 1000 {
            return Err(s3_error!(MalformedXML, "at most 1000 keys per DeleteObjects request"));
        }
        self.bucket_meta(&input.bucket).await?;
        let mut deleted = Vec::new();
        let mut errors = Vec::new();
        let mut permitted = Vec::new();
        for ident in &input.delete.objects {
            let key = ident.key.clone();
            let meta = self.object_meta(&input.bucket, &key).await?;
            let outcome = match &meta {
                Ok(m) => match labels::stored(&m.label) {
                    Ok(label) => {
                        self.decide(
                            &caller,
                            "s3:DeleteObject",
                            Action::Delete,
                            &input.bucket,
                            Some(&key),
                            Some((&label, &m.label_marking)),
                        )
                        .await
                    }
                    Err(msg) => Err(S3Error::with_message(S3ErrorCode::InternalError, msg)),
                },
                Err(_) => {
                    self.decide(&caller, "s3:DeleteObject", Action::List, &input.bucket, Some(&key), None)
                        .await
                }
            };
            match outcome {
                Ok(_) => permitted.push(key),
                Err(e) => errors.push(Error {
                    code: Some(e.code().as_str().to_owned()),
                    key: Some(key),
                    message: e.message().map(str::to_owned),
                    version_id: None,
                }),
            }
        }
        let store = self.store().clone();
        let b = input.bucket.clone();
        let keys = permitted.clone();
        let results = blocking(move || store.delete_objects(&b, &keys)).await?.map_err(store_error)?;
        for (key, result) in permitted.into_iter().zip(results) {
            match result {
                Ok(_) => deleted.push(DeletedObject { key: Some(key), ..Default::default() }),
                Err(e) => {
                    let s3 = store_error(e);
                    errors.push(Error {
                        code: Some(s3.code().as_str().to_owned()),
                        key: Some(key),
                        message: s3.message().map(str::to_owned),
                        version_id: None,
                    });
                }
            }
        }
        let quiet = input.delete.quiet.unwrap_or(false);
        Ok(S3Response::new(DeleteObjectsOutput {
            deleted: (!quiet).then_some(deleted),
            errors: Some(errors),
            ..Default::default()
        }))
    }

    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        let input = req.input.clone();
        let v2 = req.map_input(|i| ListObjectsV2Input {
            bucket: i.bucket,
            delimiter: i.delimiter,
            encoding_type: i.encoding_type,
            max_keys: i.max_keys,
            prefix: i.prefix,
            start_after: i.marker,
            ..Default::default()
        });
        let out = self.list_objects_v2(v2).await?;
        Ok(out.map_output(|o| ListObjectsOutput {
            name: o.name,
            prefix: o.prefix,
            marker: input.marker,
            next_marker: o.next_continuation_token,
            max_keys: o.max_keys,
            is_truncated: o.is_truncated,
            contents: o.contents,
            common_prefixes: o.common_prefixes,
            delimiter: o.delimiter,
            encoding_type: o.encoding_type,
            ..Default::default()
        }))
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let caller = caller(&req)?;
        let input = req.input;
        self.decide(&caller, "s3:ListBucket", Action::List, &input.bucket, None, None).await?;
        let max_keys = input.max_keys.map_or(MAX_KEYS, |m| usize::try_from(m).unwrap_or(0).min(MAX_KEYS));
        let start = input.continuation_token.clone().or_else(|| input.start_after.clone());
        let store = self.store().clone();
        let (b, prefix, delim) =
            (input.bucket.clone(), input.prefix.clone().unwrap_or_default(), input.delimiter.clone());
        let page =
            blocking(move || store.list_objects(&b, &prefix, delim.as_deref(), start.as_deref(), max_keys))
                .await?
                .map_err(store_error)?;
        let truncated = page.truncated;
        let next = page.next_token.clone();
        let (objects, prefixes) = list_output(page);
        let count = i32::try_from(objects.len() + prefixes.len()).unwrap_or(i32::MAX);
        Ok(S3Response::new(ListObjectsV2Output {
            name: Some(input.bucket),
            prefix: input.prefix,
            delimiter: input.delimiter,
            max_keys: Some(i32::try_from(max_keys).unwrap_or(1000)),
            key_count: Some(count),
            continuation_token: input.continuation_token,
            start_after: input.start_after,
            next_continuation_token: if truncated { next } else { None },
            is_truncated: Some(truncated),
            contents: Some(objects),
            common_prefixes: Some(prefixes),
            encoding_type: input.encoding_type,
            ..Default::default()
        }))
    }

    async fn copy_object(&self, req: S3Request<CopyObjectInput>) -> S3Result<S3Response<CopyObjectOutput>> {
        let caller = caller(&req)?;
        let input = req.input;
        check_key(&input.key)?;
        let CopySource::Bucket { bucket: src_bucket, key: src_key, .. } = &input.copy_source else {
            return Err(s3_error!(NotImplemented, "copy from an access point is not supported"));
        };
        let (src_bucket, src_key) = (src_bucket.to_string(), src_key.to_string());
        // Decided first: even that an object was made by its client is for those who may read it.
        let src = self.decided(&caller, "s3:GetObject", Action::Read, &src_bucket, &src_key).await?;
        if src.client_ztdf {
            return Err(s3_error!(
                NotImplemented,
                "a client-made ZTDF object is copied by the client, not the node"
            ));
        }
        let src_label = stored_label(&src.label)?;
        check_conditions(
            &src,
            input.copy_source_if_match.as_ref(),
            input.copy_source_if_none_match.as_ref(),
            input.copy_source_if_modified_since.as_ref(),
            input.copy_source_if_unmodified_since.as_ref(),
        )
        .map_err(|e| if *e.code() == S3ErrorCode::NotModified { s3_error!(PreconditionFailed) } else { e })?;
        let dest_bucket = self.bucket_meta(&input.bucket).await?;
        let replace =
            input.metadata_directive.as_ref().is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
        let (label, user, content_type) = if replace {
            let has_label =
                input.metadata.as_ref().is_some_and(|m| m.keys().any(|k| k.eq_ignore_ascii_case(LABEL_META)));
            let label = if has_label || dest_bucket.default_label.is_some() {
                self.write_label(input.metadata.as_ref(), &dest_bucket)?
            } else {
                labels::check(src_label.clone(), self.pdp().spif()).map_err(invalid)?
            };
            (label, user_metadata(input.metadata.as_ref()), input.content_type.clone())
        } else {
            let label = labels::check(src_label.clone(), self.pdp().spif()).map_err(invalid)?;
            (label, src.user_metadata.clone(), src.content_type.clone())
        };
        check_user_metadata(&user)?;
        self.decide(
            &caller,
            "s3:PutObject",
            Action::Write,
            &input.bucket,
            Some(&input.key),
            Some((&label.label, &label.marking)),
        )
        .await?;
        let vault = self.vault();
        let (blob, l, mime) = (src.blob.clone(), label.label.clone(), content_type.clone());
        let sealed = blocking(move || -> Result<Sealed, String> {
            let mut reader = crypt::open(&vault.store, &vault.keys, &blob)?;
            crypt::seal_from(&vault.store, &vault.keys, &l, mime.as_deref(), &mut reader)
                .map_err(|e| e.to_string())
        })
        .await?
        .map_err(|m| {
            tracing::error!(error = %m, "copy failed");
            S3Error::with_message(S3ErrorCode::InternalError, "the node could not copy the object")
        })?;
        let tag = hex::encode(sealed.md5);
        let modified = now_ms();
        let meta = ObjectMeta {
            blob: sealed.blob.clone(),
            size: sealed.size,
            stored_size: sealed.stored_size,
            etag: tag.clone(),
            last_modified_unix_ms: modified,
            content_type,
            user_metadata: user,
            label: label.compact,
            label_marking: label.marking,
            client_ztdf: false,
            parts: 0,
            owner: caller.principal.name.clone(),
        };
        let store = self.store().clone();
        let (b, k) = (input.bucket, input.key);
        if let Err(e) = blocking(move || store.put_object(&b, &k, meta, Precondition::None)).await? {
            self.discard(sealed.blob).await;
            return Err(store_error(e));
        }
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(CopyObjectResult {
                e_tag: Some(etag(&tag)),
                last_modified: Some(timestamp(modified)),
                ..Default::default()
            }),
            ..Default::default()
        }))
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let caller = caller(&req)?;
        let input = req.input;
        check_key(&input.key)?;
        let bucket = self.bucket_meta(&input.bucket).await?;
        let label = self.write_label(input.metadata.as_ref(), &bucket)?;
        let user = user_metadata(input.metadata.as_ref());
        check_user_metadata(&user)?;
        self.decide(
            &caller,
            "s3:CreateMultipartUpload",
            Action::Write,
            &input.bucket,
            Some(&input.key),
            Some((&label.label, &label.marking)),
        )
        .await?;
        let meta = UploadMeta {
            bucket: input.bucket.clone(),
            key: input.key.clone(),
            initiated_unix_ms: now_ms(),
            owner: caller.principal.name.clone(),
            content_type: input.content_type,
            user_metadata: user,
            label: label.compact,
            label_marking: label.marking,
        };
        let store = self.store().clone();
        let id = blocking(move || store.create_upload(meta)).await?.map_err(store_error)?;
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(id),
            ..Default::default()
        }))
    }

    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        let caller = caller(&req)?;
        let input = req.input;
        let upload = self.upload_of(&input.upload_id, &input.bucket, &input.key).await?;
        let number = u32::try_from(input.part_number)
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| s3_error!(InvalidArgument, "part numbers go from 1 to 10000"))?;
        let label = labels::stored(&upload.label)
            .and_then(|l| labels::check(l, self.pdp().spif()))
            .map_err(|m| S3Error::with_message(S3ErrorCode::InternalError, m))?;
        self.decide(
            &caller,
            "s3:UploadPart",
            Action::Write,
            &input.bucket,
            Some(&input.key),
            Some((&label.label, &label.marking)),
        )
        .await?;
        let sealed = self.seal_body(input.body, MAX_PUT_BYTES, &label, None).await?;
        if let Some(len) = input.content_length
            && u64::try_from(len).ok() != Some(sealed.size)
        {
            self.discard(sealed.blob).await;
            return Err(s3_error!(IncompleteBody, "the part's length differs from Content-Length"));
        }
        let tag = hex::encode(sealed.md5);
        let part = PartMeta {
            blob: sealed.blob.clone(),
            size: sealed.size,
            stored_size: sealed.stored_size,
            etag: tag.clone(),
            md5: sealed.md5,
            last_modified_unix_ms: now_ms(),
        };
        let store = self.store().clone();
        let id = input.upload_id.clone();
        if let Err(e) = blocking(move || store.put_part(&id, number, part)).await? {
            self.discard(sealed.blob).await;
            return Err(store_error(e));
        }
        Ok(S3Response::new(UploadPartOutput { e_tag: Some(etag(&tag)), ..Default::default() }))
    }

    async fn list_parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        let caller = caller(&req)?;
        let input = req.input;
        let upload = self.upload_of(&input.upload_id, &input.bucket, &input.key).await?;
        let label = labels::stored(&upload.label)
            .map_err(|m| S3Error::with_message(S3ErrorCode::InternalError, m))?;
        self.decide(
            &caller,
            "s3:ListMultipartUploadParts",
            Action::ReadLabel,
            &input.bucket,
            Some(&input.key),
            Some((&label, &upload.label_marking)),
        )
        .await?;
        let store = self.store().clone();
        let id = input.upload_id.clone();
        let parts = blocking(move || store.list_parts(&id)).await?.map_err(store_error)?;
        let marker = input.part_number_marker.and_then(|m| u32::try_from(m).ok()).unwrap_or(0);
        let max = input.max_parts.and_then(|m| usize::try_from(m).ok()).unwrap_or(1000).min(1000);
        let after: Vec<_> = parts.into_iter().filter(|(n, _)| *n > marker).collect();
        let truncated = after.len() > max;
        let shown: Vec<_> = after.into_iter().take(max).collect();
        let next = shown.last().map(|(n, _)| *n);
        let parts = shown
            .into_iter()
            .map(|(n, p)| Part {
                part_number: i32::try_from(n).ok(),
                size: i64::try_from(p.size).ok(),
                e_tag: Some(etag(&p.etag)),
                last_modified: Some(timestamp(p.last_modified_unix_ms)),
                ..Default::default()
            })
            .collect();
        Ok(S3Response::new(ListPartsOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(input.upload_id),
            parts: Some(parts),
            is_truncated: Some(truncated),
            max_parts: i32::try_from(max).ok(),
            part_number_marker: input.part_number_marker,
            next_part_number_marker: if truncated { next.and_then(|n| i32::try_from(n).ok()) } else { None },
            ..Default::default()
        }))
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        let caller = caller(&req)?;
        let input = req.input;
        self.decide(&caller, "s3:ListBucketMultipartUploads", Action::List, &input.bucket, None, None)
            .await?;
        let store = self.store().clone();
        let b = input.bucket.clone();
        let uploads = blocking(move || store.list_uploads(&b)).await?.map_err(store_error)?;
        let prefix = input.prefix.clone().unwrap_or_default();
        let uploads = uploads
            .into_iter()
            .filter(|(_, u)| u.key.starts_with(&prefix))
            .take(1000)
            .map(|(id, u)| MultipartUpload {
                key: Some(u.key),
                upload_id: Some(id),
                initiated: Some(timestamp(u.initiated_unix_ms)),
                ..Default::default()
            })
            .collect();
        Ok(S3Response::new(ListMultipartUploadsOutput {
            bucket: Some(input.bucket),
            prefix: input.prefix,
            uploads: Some(uploads),
            is_truncated: Some(false),
            ..Default::default()
        }))
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let caller = caller(&req)?;
        let input = req.input;
        let upload = self.upload_of(&input.upload_id, &input.bucket, &input.key).await?;
        let label = labels::stored(&upload.label)
            .map_err(|m| S3Error::with_message(S3ErrorCode::InternalError, m))?;
        self.decide(
            &caller,
            "s3:AbortMultipartUpload",
            Action::Write,
            &input.bucket,
            Some(&input.key),
            Some((&label, &upload.label_marking)),
        )
        .await?;
        let store = self.store().clone();
        let id = input.upload_id;
        blocking(move || store.abort_upload(&id)).await?.map_err(store_error)?;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let caller = caller(&req)?;
        let input = req.input;
        let upload = self.upload_of(&input.upload_id, &input.bucket, &input.key).await?;
        let label = labels::stored(&upload.label)
            .and_then(|l| labels::check(l, self.pdp().spif()))
            .map_err(|m| S3Error::with_message(S3ErrorCode::InternalError, m))?;
        let pre = write_precondition(input.if_match.as_ref(), input.if_none_match.as_ref())?;
        self.decide(
            &caller,
            "s3:CompleteMultipartUpload",
            Action::Write,
            &input.bucket,
            Some(&input.key),
            Some((&label.label, &label.marking)),
        )
        .await?;
        let wanted = input.multipart_upload.and_then(|m| m.parts).unwrap_or_default();
        if wanted.is_empty() {
            return Err(s3_error!(MalformedXML, "the completion lists no parts"));
        }
        let store = self.store().clone();
        let id = input.upload_id.clone();
        let stored = blocking(move || store.list_parts(&id)).await?.map_err(store_error)?;
        let by_number: BTreeMap<u32, PartMeta> = stored.into_iter().collect();
        let mut numbers = Vec::with_capacity(wanted.len());
        for p in &wanted {
            let n = p
                .part_number
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| s3_error!(InvalidPart, "a listed part has no part number"))?;
            if numbers.last().is_some_and(|last| n <= *last) {
                return Err(s3_error!(InvalidPartOrder, "parts must be listed in ascending order"));
            }
            numbers.push(n);
        }
        let mut chosen = Vec::with_capacity(wanted.len());
        for (i, (p, n)) in wanted.iter().zip(numbers).enumerate() {
            let part =
                by_number.get(&n).ok_or_else(|| s3_error!(InvalidPart, "part {n} was not uploaded"))?;
            if let Some(t) = &p.e_tag
                && t.value().trim_matches('"') != part.etag
            {
                return Err(s3_error!(InvalidPart, "part {n}: the ETag differs from the uploaded part's"));
            }
            if i + 1 < wanted.len() && part.size < MIN_PART_BYTES {
                return Err(s3_error!(
                    EntityTooSmall,
                    "part {n} is {} bytes; every part but the last needs at least {MIN_PART_BYTES}",
                    part.size
                ));
            }
            chosen.push(part.clone());
        }
        let mut md5s = Vec::with_capacity(chosen.len() * 16);
        for p in &chosen {
            md5s.extend_from_slice(&p.md5);
        }
        use s3s::crypto::Checksum as _;
        let tag = format!("{}-{}", hex::encode(s3s::crypto::Md5::checksum(&md5s)), chosen.len());
        let vault = self.vault();
        let (l, mime) = (label.label.clone(), upload.content_type.clone());
        let blobs: Vec<String> = chosen.iter().map(|p| p.blob.clone()).collect();
        let sealed = blocking(move || -> Result<Sealed, String> {
            let mut readers = Vec::with_capacity(blobs.len());
            for b in &blobs {
                readers.push(crypt::open(&vault.store, &vault.keys, b)?);
            }
            let mut chain: Box<dyn std::io::Read> = Box::new(std::io::empty());
            for r in readers {
                chain = Box::new(std::io::Read::chain(chain, r));
            }
            crypt::seal_from(&vault.store, &vault.keys, &l, mime.as_deref(), &mut chain)
                .map_err(|e| e.to_string())
        })
        .await?
        .map_err(|m| {
            tracing::error!(error = %m, "multipart completion failed");
            S3Error::with_message(S3ErrorCode::InternalError, "the node could not assemble the parts")
        })?;
        let meta = ObjectMeta {
            blob: sealed.blob.clone(),
            size: sealed.size,
            stored_size: sealed.stored_size,
            etag: tag.clone(),
            last_modified_unix_ms: now_ms(),
            content_type: upload.content_type,
            user_metadata: upload.user_metadata,
            label: label.compact,
            label_marking: label.marking,
            client_ztdf: false,
            parts: u32::try_from(chosen.len()).unwrap_or(u32::MAX),
            owner: caller.principal.name.clone(),
        };
        let store = self.store().clone();
        let id = input.upload_id;
        if let Err(e) = blocking(move || store.complete_upload(&id, meta, pre)).await? {
            self.discard(sealed.blob).await;
            return Err(store_error(e));
        }
        Ok(S3Response::new(CompleteMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            e_tag: Some(etag(&tag)),
            ..Default::default()
        }))
    }
}

impl ObjectService {
    /// An existing object the caller may do `action` on: decided (and audited) under the object's label. A
    /// missing key is decided as a listing first: whether a key exists is for those who may list the bucket.
    async fn decided(
        &self,
        caller: &Caller,
        s3_action: &str,
        action: Action,
        bucket: &str,
        key: &str,
    ) -> S3Result<ObjectMeta> {
        let meta = match self.object_meta(bucket, key).await? {
            Ok(m) => m,
            Err(e) => {
                self.decide(caller, s3_action, Action::List, bucket, Some(key), None).await?;
                return Err(store_error(e));
            }
        };
        let label = stored_label(&meta.label)?;
        self.decide(caller, s3_action, action, bucket, Some(key), Some((&label, &meta.label_marking)))
            .await?;
        Ok(meta)
    }

    /// The upload, checked to belong to this bucket and key.
    async fn upload_of(&self, upload_id: &str, bucket: &str, key: &str) -> S3Result<UploadMeta> {
        let store = self.store().clone();
        let id = upload_id.to_owned();
        let upload = blocking(move || store.upload(&id)).await?.map_err(store_error)?;
        if upload.bucket != bucket || upload.key != key {
            return Err(s3_error!(NoSuchUpload, "no such upload for this bucket and key"));
        }
        Ok(upload)
    }
}
