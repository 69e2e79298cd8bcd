//! Notice attachments over HTTP, on the real S3 server and on local disk: the size cap, types
//! from content, presigned and streamed downloads with Chinese file names, and links that are
//! useless to anyone outside the notice's audience or school.

use reqwest::StatusCode;
use uuid::Uuid;
use xg_e2e::app::{TestApp, browser, get, sign_in_school};
use xg_e2e::notices::{
    attachment_count, compose, notice_id, pdf_bytes, student_client, unit_id, upload, world,
};
use xg_e2e::test_s3_store;
use xg_storage::Storage;

#[tokio::test]
async fn attachments_on_s3_are_capped_typed_by_content_and_useless_to_another_school() {
    let w = world().await;
    let store = test_s3_store().await;
    let app = TestApp::start_with_storage(w.t.app.clone(), Storage::S3(store.clone())).await;
    let counselor = browser();
    sign_in_school(&app, &counselor, "alpha", "counselor", "initial-password-2").await;
    let c1 = unit_id(&w.t.app, w.alpha, "G1-C1").await;
    compose(&app, &counselor, "alpha", "附件通知", "<p>见附件</p>", &[c1], &[]).await;
    let id = notice_id(&w.t.app, w.alpha, "附件通知").await;

    let content = pdf_bytes(300 * 1024);
    let (status, html) =
        upload(&app, &counselor, "alpha", id, "期末 考试安排.pdf", content.clone()).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("已上传附件：期末 考试安排.pdf"), "{html}");
    assert_eq!(store.list_tenant_keys(w.alpha).await.unwrap().len(), 1);
    let mut tx = w.t.app.tenant(w.alpha).await.unwrap();
    let (attachment, content_type, size): (Uuid, String, i64) =
        sqlx::query_as("select id, content_type, size_bytes from attachments")
            .fetch_one(tx.conn())
            .await
            .unwrap();
    drop(tx);
    assert_eq!((content_type.as_str(), size), ("application/pdf", content.len() as i64));

    // Over the cap: 413 in Chinese, and neither an object nor a row is left behind.
    let (status, html) =
        upload(&app, &counselor, "alpha", id, "太大.pdf", pdf_bytes(20 * 1024 * 1024 + 1)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(html.contains("不能超过 20 MB"), "{html}");
    // The type comes from the bytes: a program named .pdf is refused.
    let (status, html) =
        upload(&app, &counselor, "alpha", id, "成绩.pdf", b"MZ\x90\0\x03\0\0\0\x04\0\0\0".to_vec())
            .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(html.contains("不支持此文件类型"), "{html}");
    assert_eq!(store.list_tenant_keys(w.alpha).await.unwrap().len(), 1);
    assert_eq!(attachment_count(&w.t.app, w.alpha).await, 1);

    // The sender and a recipient get a short-lived presigned link carrying the file name.
    let staff_link = format!("/s/alpha/notices/{id}/attachments/{attachment}");
    let student_link = format!("/s/alpha/inbox/{id}/attachments/{attachment}");
    let s1 = student_client(&app, "alpha", "s1").await;
    for (client, link) in [(&counselor, &staff_link), (&s1, &student_link)] {
        let res = client.get(app.url(link)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{link}");
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.contains("X-Amz-Signature="), "{location}");
        assert!(location.contains("response-content-disposition="), "{location}");
        let fetched = reqwest::get(&location).await.unwrap();
        assert_eq!(fetched.status(), StatusCode::OK);
        assert_eq!(fetched.headers()["content-type"], "application/pdf");
        assert_eq!(
            fetched.headers()["content-disposition"],
            "attachment; filename=\"_______.pdf\"; \
             filename*=UTF-8''%E6%9C%9F%E6%9C%AB%20%E8%80%83%E8%AF%95%E5%AE%89%E6%8E%92.pdf"
        );
        assert_eq!(fetched.bytes().await.unwrap().as_ref(), content.as_slice());
    }
    // A classmate outside the audience gets nothing.
    let s3 = student_client(&app, "alpha", "s3").await;
    assert_eq!(get(&app, &s3, &student_link).await.0, StatusCode::NOT_FOUND);

    // The same ids at another school lead nowhere.
    let beta_staff = browser();
    sign_in_school(&app, &beta_staff, "beta", "counselor", "initial-password-2").await;
    let foreign = format!("/s/beta/notices/{id}/attachments/{attachment}");
    assert_eq!(get(&app, &beta_staff, &foreign).await.0, StatusCode::NOT_FOUND);
    let b1 = student_client(&app, "beta", "b1").await;
    let foreign = format!("/s/beta/inbox/{id}/attachments/{attachment}");
    assert_eq!(get(&app, &b1, &foreign).await.0, StatusCode::NOT_FOUND);
    // And alpha's link is alpha's session only.
    assert_eq!(get(&app, &b1, &student_link).await.0, StatusCode::SEE_OTHER);
    let res = b1.get(app.url(&student_link)).send().await.unwrap();
    assert_eq!(res.headers()["location"].to_str().unwrap(), "/s/alpha/login");
}

#[tokio::test]
async fn local_downloads_keep_a_chinese_file_name_with_spaces() {
    let w = world().await;
    let app = TestApp::start(w.t.app.clone()).await;
    let counselor = browser();
    sign_in_school(&app, &counselor, "alpha", "counselor", "initial-password-2").await;
    let c1 = unit_id(&w.t.app, w.alpha, "G1-C1").await;
    compose(&app, &counselor, "alpha", "文件名", "<p>附件</p>", &[c1], &[]).await;
    let id = notice_id(&w.t.app, w.alpha, "文件名").await;
    let content = pdf_bytes(4096);
    let (status, _) =
        upload(&app, &counselor, "alpha", id, "通知 附件 一.pdf", content.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let mut tx = w.t.app.tenant(w.alpha).await.unwrap();
    let attachment: Uuid =
        sqlx::query_scalar("select id from attachments").fetch_one(tx.conn()).await.unwrap();
    drop(tx);
    let s1 = student_client(&app, "alpha", "s1").await;
    let res = s1
        .get(app.url(&format!("/s/alpha/inbox/{id}/attachments/{attachment}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"_______.pdf\"; \
         filename*=UTF-8''%E9%80%9A%E7%9F%A5%20%E9%99%84%E4%BB%B6%20%E4%B8%80.pdf"
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), content.as_slice());
}
