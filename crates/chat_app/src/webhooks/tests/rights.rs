//! Parsing webhook input, and who may manage webhooks.

use super::*;

// ---- parsers ----

#[test]
fn new_webhook_reports_every_bad_field() {
    let bad = RawWebhook {
        url: Some("ftp://x".into()),
        events: Some(vec!["nope".into()]),
        secret: Some("short".into()),
        custom_headers: json!({"Host": "x"}).as_object().cloned(),
        room_filters: Some(vec!["not-a-uuid".into()]),
        meta: json!({"a": "x".repeat(17 * 1024)}).as_object().cloned(),
        is_active: None,
    };
    let errors = NewWebhook::parse(bad, "events").err().unwrap_or_default();
    assert_eq!(
        fields(&errors),
        [
            "url",
            "events",
            "secret",
            "custom_headers",
            "room_filters",
            "meta"
        ]
    );
    let missing = NewWebhook::parse(RawWebhook::default(), "subscriptions")
        .err()
        .unwrap_or_default();
    assert_eq!(fields(&missing), ["url", "subscriptions"]);
}

#[test]
fn new_webhook_keeps_valid_input() {
    let room = Uuid::from_u128(0x55);
    let new = NewWebhook::parse(
        RawWebhook {
            room_filters: Some(vec![room.to_string(), room.to_string()]),
            ..raw("https://example.com/h", &["message.created", "room.left"])
        },
        "events",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(new.events.names(), ["message.created", "room.left"]);
    assert_eq!(new.room_filters, [room]);
    assert!(new.secret.is_none());
    assert!(new.is_active);
}

#[test]
fn patch_changes_only_fields_present() {
    let patch = WebhookPatch::parse(
        RawWebhook {
            events: Some(vec!["room.created".into()]),
            ..RawWebhook::default()
        },
        "events",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(patch.url.is_none() && patch.secret.is_none() && patch.meta.is_none());
    assert_eq!(patch.events.map(|e| e.names()), Some(vec!["room.created"]));
    assert!(
        WebhookPatch::parse(RawWebhook::default(), "events")
            .unwrap_or_else(|e| panic!("{e}"))
            .is_empty()
    );
    let errors = WebhookPatch::parse(
        RawWebhook {
            url: Some("nope".into()),
            events: Some(vec![]),
            ..RawWebhook::default()
        },
        "subscriptions",
    )
    .err()
    .unwrap_or_default();
    assert_eq!(fields(&errors), ["url", "subscriptions"]);
}

// ---- rights and CRUD ----

#[tokio::test]
async fn agents_and_scoped_credentials_are_refused() {
    let mut mocks = Mocks::new();
    mocks.store.expect_list_webhooks().never();
    let webhooks = mocks.webhooks();
    let window = Window::new(0, 10, 100).unwrap_or_else(|e| panic!("{e}"));
    for actor in [
        user(Role::Agent, None),
        user(Role::Agent, Some(Permissions::default())),
    ] {
        assert!(matches!(
            webhooks.list(&actor, window).await,
            Err(AppError::Forbidden(_))
        ));
    }
    assert!(matches!(
        webhooks.list(&Actor::Platform, window).await,
        Err(AppError::Unauthenticated)
    ));
}

#[tokio::test]
async fn administrators_and_the_api_key_list() {
    let mut mocks = Mocks::new();
    mocks
        .store
        .expect_list_webhooks()
        .times(2)
        .returning(|account, _| {
            assert_eq!(account, ACCOUNT);
            Ok(Page {
                items: vec![webhook()],
                total: 1,
            })
        });
    let webhooks = mocks.webhooks();
    let window = Window::new(0, 10, 100).unwrap_or_else(|e| panic!("{e}"));
    for actor in [api_key(), user(Role::Administrator, None)] {
        let page = webhooks
            .list(&actor, window)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(page.total, 1);
    }
}

#[tokio::test]
async fn create_generates_a_secret_after_checking_the_url() {
    let mut mocks = Mocks::new();
    mocks
        .sender
        .expect_check_destination()
        .times(1)
        .returning(|_| Ok(()));
    mocks
        .store
        .expect_create_webhook()
        .times(1)
        .returning(|account, new| {
            assert_eq!(account, ACCOUNT);
            let secret = new.secret.unwrap_or_else(|| panic!("no secret"));
            assert!(secret.expose().starts_with("whsec_"));
            Ok(Webhook {
                secret,
                ..webhook()
            })
        });
    let new = NewWebhook::parse(raw("https://example.com/h", &["message.created"]), "events")
        .unwrap_or_else(|e| panic!("{e}"));
    let created = mocks
        .webhooks()
        .create(&api_key(), new)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(created.secret.expose().len(), 70);
}

#[tokio::test]
async fn a_private_destination_is_refused_on_url() {
    let mut mocks = Mocks::new();
    mocks.sender.expect_check_destination().returning(|_| {
        Err(FieldError::new(
            "url",
            Problem::Invalid("resolves to a private address".into()),
        ))
    });
    mocks.store.expect_create_webhook().never();
    let new = NewWebhook::parse(raw("http://10.0.0.1/h", &["room.created"]), "events")
        .unwrap_or_else(|e| panic!("{e}"));
    match mocks.webhooks().create(&api_key(), new).await {
        Err(AppError::Invalid(errors)) => assert_eq!(fields(&errors), ["url"]),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn update_rechecks_a_changed_url_only() {
    let mut mocks = Mocks::new();
    mocks
        .store
        .expect_find_webhook()
        .returning(|_, _| Ok(webhook()));
    mocks
        .sender
        .expect_check_destination()
        .times(1)
        .returning(|url| {
            assert_eq!(url.host(), "other.example.com");
            Ok(())
        });
    mocks
        .store
        .expect_update_webhook()
        .times(2)
        .returning(|_, _, _| Ok(webhook()));
    let webhooks = mocks.webhooks();
    let id = WebhookRef::Id(WebhookId(7));
    for url in [
        "https://hooks.example.com/in",
        "https://other.example.com/in",
    ] {
        let patch = WebhookPatch::parse(
            RawWebhook {
                url: Some(url.into()),
                ..RawWebhook::default()
            },
            "url",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        webhooks
            .update(&api_key(), id, patch)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

#[tokio::test]
async fn another_accounts_webhook_is_not_found() {
    let mut mocks = Mocks::new();
    mocks
        .store
        .expect_find_webhook()
        .returning(|_, _| Err(StoreError::NotFound));
    let result = mocks
        .webhooks()
        .get(&api_key(), WebhookRef::Uuid(Uuid::from_u128(1)))
        .await;
    assert!(matches!(result, Err(AppError::NotFound(Resource::Webhook))));
}
