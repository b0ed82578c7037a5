//! Routes, handlers and the problem-document mapping.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hakobune_access::{AccessError, Action, Gate, Principal, Resource};
use hakobune_index::DocumentQuery;
use hakobune_store::Store;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::{ApiMetrics, ReadError, Reader};

/// What the handlers share.
#[derive(Clone)]
pub struct ApiState {
    /// The storage engine (status only; reads go through [`Reader`]).
    pub store: Arc<Store>,
    /// The access gate.
    pub gate: Arc<Gate>,
    /// The patient-data reader.
    pub reader: Arc<Reader>,
    /// Metrics registry to expose.
    pub registry: Arc<Registry>,
    /// The API's own metrics (registered in `registry`).
    pub metrics: ApiMetrics,
    /// Extra health information from the rest of the server (listeners, facilities).
    pub health_extra: Arc<dyn Fn() -> serde_json::Value + Send + Sync>,
    /// The appliance's health model (UPS, storage, last start, alarms), assembled by the server.
    pub appliance_status: Arc<dyn Fn() -> serde_json::Value + Send + Sync>,
}

/// An API error, rendered as an RFC 9457 problem document.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    title: &'static str,
    detail: String,
}

impl ApiError {
    fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError { status, title, detail: detail.into() }
    }

    fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid request", detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "type": "about:blank",
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        let mut r = (self.status, Json(body)).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        r
    }
}

impl From<AccessError> for ApiError {
    fn from(e: AccessError) -> ApiError {
        match e {
            AccessError::Denied(why) => ApiError::new(StatusCode::FORBIDDEN, "access denied", why),
            AccessError::Audit(e) => {
                tracing::error!(error = %e, "audit trail unavailable: refusing to serve patient data");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "audit trail unavailable",
                    "patient data cannot be served while the audit trail cannot be written",
                )
            }
        }
    }
}

impl From<ReadError> for ApiError {
    fn from(e: ReadError) -> ApiError {
        match e {
            ReadError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not found", "no such document"),
            ReadError::NotCovered => ApiError::new(StatusCode::FORBIDDEN, "access denied", e.to_string()),
            other => {
                tracing::error!(error = %other, "read failed");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error", other.to_string())
            }
        }
    }
}

/// Builds the router.
pub fn router(state: ApiState) -> axum::Router {
    axum::Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1/appliance/status", get(appliance))
        .route("/api/v1/facilities/{facility}/patients/{pid}/documents", get(list_documents))
        .route("/api/v1/documents/{id}", get(get_document))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not found", "no such endpoint") })
        .with_state(state)
}

/// Serves the router on a bound listener until `shutdown` fires.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

fn count(state: &ApiState, route: &str, status: StatusCode) {
    state
        .metrics
        .http_requests
        .get_or_create(&crate::metrics::HttpLabels { route: route.into(), status: status.as_u16() })
        .inc();
}

async fn healthz(State(state): State<ApiState>) -> Response {
    let status = state.store.status();
    let ok = status.fatal.is_none();
    let code = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    count(&state, "/healthz", code);
    let body = serde_json::json!({
        "status": if ok { "ok" } else { "failed" },
        "version": env!("CARGO_PKG_VERSION"),
        "store": status,
        "server": (state.health_extra)(),
    });
    (code, Json(body)).into_response()
}

async fn appliance(State(state): State<ApiState>) -> Response {
    count(&state, "/api/v1/appliance/status", StatusCode::OK);
    Json((state.appliance_status)()).into_response()
}

async fn metrics(State(state): State<ApiState>) -> Response {
    state.metrics.refresh(&state.store.status());
    count(&state, "/metrics", StatusCode::OK);
    let mut out = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &state.registry) {
        return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error", e.to_string()).into_response();
    }
    let mut r = out.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}

#[derive(Debug, Deserialize)]
struct ListParams {
    #[serde(rename = "type")]
    data_type: Option<String>,
    from: Option<String>,
    to: Option<String>,
    include_history: Option<String>,
    limit: Option<u32>,
}

fn valid_date(s: &str) -> bool {
    s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit())
}

fn parse_bool(name: &str, v: Option<&str>) -> Result<bool, ApiError> {
    match v {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!("{name} must be true or false, not {other:?}"))),
    }
}

async fn list_documents(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((facility, pid)): Path<(String, String)>,
    Query(p): Query<ListParams>,
) -> Result<Response, ApiError> {
    let route = "/api/v1/facilities/{facility}/patients/{pid}/documents";
    let result = async {
        if facility.len() != 10 || !facility.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::bad_request("facility must be a 10-digit 医療施設ID"));
        }
        if pid.is_empty() || pid.len() > 15 || !pid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(ApiError::bad_request("pid must be 1-15 letters or digits"));
        }
        for (name, v) in [("from", &p.from), ("to", &p.to)] {
            if let Some(d) = v
                && !valid_date(d)
            {
                return Err(ApiError::bad_request(format!("{name} must be YYYYMMDD")));
            }
        }
        let q = DocumentQuery {
            facility_id: facility.clone(),
            patient_id: pid.clone(),
            data_type: p.data_type.clone().filter(|t| !t.is_empty()),
            from: p.from.clone(),
            to: p.to.clone(),
            include_history: parse_bool("include_history", p.include_history.as_deref())?,
            limit: p.limit,
        };
        let principal = Principal::from_peer(peer);
        let resource = Resource { facility_id: facility.clone(), patient_id: pid.clone(), document_id: None };
        let (state2, q2) = (state.clone(), q.clone());
        let docs = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
            let grant = state2.gate.check(&principal, Action::ListDocuments, &resource)?;
            Ok(state2.reader.documents(&grant, &q2)?)
        })
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error", e.to_string()))??;
        let documents: Vec<Listed<'_>> =
            docs.iter().map(|doc| Listed { doc, href: format!("/api/v1/documents/{}", doc.id) }).collect();
        Ok(Json(ListResponse { facility_id: &facility, patient_id: &pid, count: documents.len(), documents })
            .into_response())
    }
    .await;
    count(&state, route, result.as_ref().map(|r| r.status()).unwrap_or_else(|e| e.status));
    result
}

/// One listed document: the index row plus its link.
#[derive(Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    doc: &'a hakobune_index::Document,
    href: String,
}

#[derive(Serialize)]
struct ListResponse<'a> {
    facility_id: &'a str,
    patient_id: &'a str,
    count: usize,
    documents: Vec<Listed<'a>>,
}

#[derive(Debug, Deserialize)]
struct DocParams {
    format: Option<String>,
}

async fn get_document(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    Query(p): Query<DocParams>,
) -> Result<Response, ApiError> {
    let route = "/api/v1/documents/{id}";
    let result = async {
        let id: i64 = id.parse().map_err(|_| ApiError::bad_request("document id must be a number"))?;
        let json = match p.format.as_deref() {
            None | Some("") | Some("raw") | Some("hl7") => false,
            Some("json") => true,
            Some(other) => {
                return Err(ApiError::bad_request(format!("format must be raw or json, not {other:?}")));
            }
        };
        let principal = Principal::from_peer(peer);
        let state2 = state.clone();
        let (doc, bytes) = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
            let (facility_id, patient_id) = state2.reader.owner(id)?;
            let resource = Resource { facility_id, patient_id, document_id: Some(id) };
            let grant = state2.gate.check(&principal, Action::ReadDocument, &resource)?;
            Ok(state2.reader.document(&grant, id)?)
        })
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error", e.to_string()))??;
        if !json {
            let mut r = bytes.into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/hl7-v2; charset=ISO-2022-JP"));
            if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{}\"", doc.file_name)) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            return Ok(r);
        }
        let decoded = hakobune_hl7::charset::decode(&bytes).map_err(|e| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "stored message cannot be decoded", e.to_string())
        })?;
        let msg = hakobune_hl7::Message::parse(&decoded.text).map_err(|e| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "stored message cannot be parsed", e.to_string())
        })?;
        Ok(Json(serde_json::json!({
            "document": doc,
            "message": hakobune_hl7::json::to_json_view(&msg),
        }))
        .into_response())
    }
    .await;
    count(&state, route, result.as_ref().map(|r| r.status()).unwrap_or_else(|e| e.status));
    result
}
