//! Attachment storage: both backends behave the same, objects live under their school's
//! prefix, and the S3 backend talks to a real S3-compatible server that checks signatures.

use bytes::Bytes;
use secrecy::SecretString;
use uuid::Uuid;
use xg_e2e::test_s3_store;
use xg_kernel::TenantId;
use xg_storage::{LocalDisk, ObjectKey, S3Settings, S3Store, Storage};

async fn round_trip(storage: &Storage) {
    let school_a = TenantId::new_random();
    let school_b = TenantId::new_random();
    let object = Uuid::new_v4();
    let key_a = ObjectKey::new(school_a, object);
    let body = Bytes::from("成绩单.pdf 的内容".as_bytes().to_vec());

    storage.put(&key_a, body.clone(), "application/pdf").await.unwrap();
    assert_eq!(storage.get(&key_a).await.unwrap(), Some(body.clone()));
    // The same object id under another school is another object: it does not exist.
    assert_eq!(storage.get(&ObjectKey::new(school_b, object)).await.unwrap(), None);

    let replaced = Bytes::from_static(b"v2");
    storage.put(&key_a, replaced.clone(), "application/pdf").await.unwrap();
    assert_eq!(storage.get(&key_a).await.unwrap(), Some(replaced));

    storage.delete(&key_a).await.unwrap();
    assert_eq!(storage.get(&key_a).await.unwrap(), None);
    storage.delete(&key_a).await.unwrap();
    storage.check().await.unwrap();
}

#[tokio::test]
async fn local_disk_stores_reads_replaces_and_deletes_under_the_tenant_prefix() {
    let root = std::env::temp_dir().join(format!("xg-storage-{}", Uuid::new_v4()));
    let storage = Storage::Local(LocalDisk::new(root.clone()));
    round_trip(&storage).await;

    let tenant = TenantId::new_random();
    let key = ObjectKey::new(tenant, Uuid::new_v4());
    storage.put(&key, Bytes::from_static(b"x"), "text/plain").await.unwrap();
    assert!(root.join(format!("tenants/{tenant}")).is_dir());
    assert_eq!(key.path(), format!("tenants/{tenant}/{}", key_object(&key)));
}

fn key_object(key: &ObjectKey) -> String {
    key.path().rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn s3_stores_reads_replaces_and_deletes_on_a_real_server() {
    round_trip(&Storage::S3(test_s3_store().await)).await;
}

#[tokio::test]
async fn s3_keys_are_listed_per_school_prefix_only() {
    let store = test_s3_store().await;
    let storage = Storage::S3(store.clone());
    let (a, b) = (TenantId::new_random(), TenantId::new_random());
    for tenant in [a, a, b] {
        let key = ObjectKey::new(tenant, Uuid::new_v4());
        storage.put(&key, Bytes::from_static(b"data"), "text/plain").await.unwrap();
    }
    let keys_a = store.list_tenant_keys(a).await.unwrap();
    assert_eq!(keys_a.len(), 2);
    assert!(keys_a.iter().all(|k| k.starts_with(&format!("tenants/{a}/"))), "{keys_a:?}");
    assert_eq!(store.list_tenant_keys(b).await.unwrap().len(), 1);
}

#[tokio::test]
async fn s3_requests_with_a_wrong_secret_are_refused_by_the_server() {
    let good = test_s3_store().await;
    drop(good);
    let bad = S3Store::new(S3Settings {
        endpoint: std::env::var("XG_TEST_S3_ENDPOINT").unwrap(),
        region: "us-east-1".into(),
        bucket: "anything".into(),
        access_key: SecretString::from(std::env::var("XG_TEST_S3_ACCESS_KEY").unwrap()),
        secret_key: SecretString::from("not-the-secret"),
        path_style: true,
    });
    let key = ObjectKey::new(TenantId::new_random(), Uuid::new_v4());
    let err = bad.put(&key, Bytes::from_static(b"x"), "text/plain").await.unwrap_err();
    assert!(err.to_string().contains("SignatureDoesNotMatch"), "{err}");
}
