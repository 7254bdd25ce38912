//! Signed tokens (CONTRACT §7): a client's signing secret, and the HS256 tokens its
//! servers mint with it — minted here by hand (`chat_tests::jwt`), never with the
//! server's code — accepted wherever a scoped key is, and every way one is refused.

use std::time::Duration;

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

/// A tenant with a signing secret: `(tenant, signing)`.
async fn signing_tenant(app: &TestApp) -> (Tenant, Signing) {
    let acme = app.tenant("Acme").await;
    let signing = app.signing_secret(&acme.api_key).await;
    (acme, signing)
}

fn assert_unauthorized(reply: &Reply, context: &str) {
    assert_chatapi_error(reply, 401, "UNAUTHORIZED", context);
}

#[actix_web::test]
async fn the_signing_secret_is_shown_once_with_the_client_id_tokens_name_as_iss() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let reply = app
        .send(
            Method::POST,
            SIGNING_SECRET,
            &[api_key_header(&acme.api_key)],
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["status"], "success");
    let data = &body["data"];
    assert_eq!(keys_of(data), ["client_id", "created_at", "signing_secret"]);
    assert_secret(str_of(data, "signing_secret"), "ss_");
    assert_rfc3339_near_now(&data["created_at"]);
    let me = app
        .get("/api/v1/clients/me", &[api_key_header(&acme.api_key)])
        .await;
    assert_eq!(data["client_id"], me.json()["data"]["id"]);
    // Never stored: the table keeps a seed, not the secret.
    let secret = str_of(data, "signing_secret");
    let stored = app.sql("SELECT signing_secrets::text FROM signing_secrets");
    assert!(!stored.is_empty());
    assert!(
        !stored.contains(&secret[3..]),
        "the secret is stored in clear"
    );

    // Each replacement is a new secret.
    let next = app.signing_secret(&acme.api_key).await;
    assert_ne!(next.secret, secret);
}

#[actix_web::test]
async fn only_the_api_key_replaces_the_signing_secret() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let key = app.scoped_key(&acme.api_key, "ann", None).await;
    for credential in [acme.admin_token.as_str(), key.as_str(), "wrong"] {
        let reply = app
            .send(
                Method::POST,
                SIGNING_SECRET,
                &[api_key_header(credential)],
                None,
            )
            .await;
        assert_unauthorized(&reply, "not the API key");
    }
    assert_eq!(app.count_rows("signing_secrets"), 0);
}

#[actix_web::test]
async fn without_a_server_secret_key_signing_is_503_and_every_token_is_refused() {
    let app = TestApp::spawn_with(|settings| settings.secret_key = None).await;
    let acme = app.tenant("Acme").await;
    let reply = app
        .send(
            Method::POST,
            SIGNING_SECRET,
            &[api_key_header(&acme.api_key)],
            None,
        )
        .await;
    assert_chatapi_error(&reply, 503, "SIGNING_NOT_CONFIGURED", "no CHAT_SECRET_KEY");
    assert!(reply.header("retry-after").is_some());
    let me = app
        .get("/api/v1/clients/me", &[api_key_header(&acme.api_key)])
        .await;
    let client_id = str_of(&me.json()["data"], "id").to_owned();
    // A token signed with anything at all names nobody.
    let token = mint_jwt("ss_guess", &claims_for(&client_id, "ann"));
    assert_unauthorized(&app.get(ROOMS, &[api_key_header(&token)]).await, "JWT");
}

#[actix_web::test]
async fn a_token_acts_as_its_user_made_on_first_use_with_its_name() {
    let app = TestApp::spawn().await;
    let (acme, signing) = signing_tenant(&app).await;
    let claims = with_claim(
        claims_for(&signing.client_id, "crm-77"),
        "name",
        json!("Joan Clarke"),
    );
    let token = mint_jwt(&signing.secret, &claims);
    // Every credential header takes it.
    for header in ["x-api-key", "api_access_token"] {
        let reply = app.get(ROOMS, &[(header, token.as_str())]).await;
        assert_eq!(reply.status, 200, "{header}: {}", reply.text());
    }
    let bearer = format!("Bearer {token}");
    let reply = app.get(ROOMS, &[("authorization", bearer.as_str())]).await;
    assert_eq!(reply.status, 200, "bearer: {}", reply.text());

    let user = app.get_end_user(&acme.api_key, "crm-77").await;
    assert_eq!(user.status, 200, "{}", user.text());
    assert_eq!(user.json()["data"]["user_name"], "Joan Clarke");
    // Itself too.
    let own = app.get_end_user(&token, "crm-77").await;
    assert_eq!(own.status, 200, "{}", own.text());

    // A token without a name makes a user named by its sub.
    let unnamed = mint_jwt(&signing.secret, &claims_for(&signing.client_id, "crm-78"));
    assert_eq!(app.rooms_status(&unnamed).await, 200);
    let user = app.get_end_user(&acme.api_key, "crm-78").await;
    assert_eq!(user.json()["data"]["user_name"], "crm-78");
}

#[actix_web::test]
async fn a_token_is_its_user_in_both_dialects_with_the_default_permissions() {
    let app = TestApp::spawn().await;
    let (acme, signing) = signing_tenant(&app).await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Team" }))
        .await;
    let uuid = str_of(&room, "id").to_owned();
    app.join_ok(&acme.api_key, &uuid, "ann").await;
    let token = mint_jwt(&signing.secret, &claims_for(&signing.client_id, "ann"));

    let sent = app
        .send_message_ok(
            &token,
            &uuid,
            json!({ "sender_id": "bob", "content": "hi" }),
        )
        .await;
    assert_eq!(sent["sender_id"], "ann");
    let id = app.chat_room_id_of(acme.id, &acme.api_key, &uuid).await;
    let listed = app
        .get(
            &chat_rooms_path(acme.id),
            &[("api_access_token", token.as_str())],
        )
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    assert_eq!(listed.json().as_array().map(Vec::len), Some(1));
    let messages = app
        .get(
            &chat_messages_path(acme.id, id),
            &[("api_access_token", token.as_str())],
        )
        .await;
    assert_eq!(messages.status, 200, "{}", messages.text());
    // Default permissions: no manage_rooms.
    let create = app
        .json(
            Method::POST,
            ROOMS,
            &[api_key_header(&token)],
            &json!({ "name": "Mine" }),
        )
        .await;
    assert_chatapi_error(&create, 403, "PERMISSION_DENIED", "create a room");
}

#[actix_web::test]
async fn perms_narrow_a_token_and_an_unknown_permission_refuses_it() {
    let app = TestApp::spawn().await;
    let (acme, signing) = signing_tenant(&app).await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Team" }))
        .await;
    let uuid = str_of(&room, "id").to_owned();
    app.join_ok(&acme.api_key, &uuid, "ann").await;
    let claims = with_claim(
        claims_for(&signing.client_id, "ann"),
        "perms",
        json!(["read_messages"]),
    );
    let reader = mint_jwt(&signing.secret, &claims);
    assert_eq!(app.message_count(&reader, &uuid).await, 0);
    let sent = app
        .post_message(&reader, &uuid, &json!({ "content": "hi" }))
        .await;
    let error = assert_chatapi_error(&sent, 403, "PERMISSION_DENIED", "send");
    assert_eq!(error["details"]["required_permission"], "send_messages");

    let claims = with_claim(
        claims_for(&signing.client_id, "ann"),
        "perms",
        json!(["manage_rooms"]),
    );
    let manager = mint_jwt(&signing.secret, &claims);
    let made = app
        .json(
            Method::POST,
            ROOMS,
            &[api_key_header(&manager)],
            &json!({ "name": "Ann's" }),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text());

    let claims = with_claim(
        claims_for(&signing.client_id, "ann"),
        "perms",
        json!(["read_messages", "superpowers"]),
    );
    let unknown = mint_jwt(&signing.secret, &claims);
    assert_unauthorized(
        &app.get(ROOMS, &[api_key_header(&unknown)]).await,
        "unknown perm",
    );
}

#[actix_web::test]
async fn tokens_of_other_algorithms_or_secrets_are_refused() {
    let app = TestApp::spawn().await;
    let (_acme, signing) = signing_tenant(&app).await;
    let claims = claims_for(&signing.client_id, "ann");
    let good = mint_jwt(&signing.secret, &claims);
    assert_eq!(app.rooms_status(&good).await, 200);

    // The signature's first character changed (its last one carries padding bits).
    let (signed, signature) = good.rsplit_once('.').unwrap_or_default();
    let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
    let tampered = format!("{signed}.{flipped}{}", &signature[1..]);
    let other = app.tenant("Other").await;
    let other_signing = app.signing_secret(&other.api_key).await;
    for (token, what) in [
        (unsigned_jwt(&claims), "alg none"),
        (mint_hs512(&signing.secret, &claims), "HS512"),
        (
            sign_hs256(
                &signing.secret,
                &json!({ "alg": "RS256", "typ": "JWT" }),
                &claims,
            ),
            "RS256 header",
        ),
        (
            sign_hs256(&signing.secret, &json!({ "typ": "JWT" }), &claims),
            "no alg",
        ),
        (mint_jwt("ss_not-the-secret", &claims), "wrong secret"),
        (
            mint_jwt(&other_signing.secret, &claims),
            "another client's secret",
        ),
        (tampered, "tampered signature"),
        ("a.b.c".to_owned(), "not base64 JSON"),
    ] {
        let reply = app.get(ROOMS, &[api_key_header(&token)]).await;
        assert_unauthorized(&reply, what);
    }
    // A claim changed after signing.
    let parts: Vec<&str> = good.split('.').collect();
    let forged_claims = base64url(
        with_claim(claims.clone(), "sub", json!("admin"))
            .to_string()
            .as_bytes(),
    );
    let forged = format!("{}.{forged_claims}.{}", parts[0], parts[2]);
    assert_unauthorized(
        &app.get(ROOMS, &[api_key_header(&forged)]).await,
        "forged sub",
    );
}

#[actix_web::test]
async fn exp_iss_and_sub_are_required_and_a_past_exp_is_token_expired() {
    let app = TestApp::spawn().await;
    let (acme, signing) = signing_tenant(&app).await;
    let claims = claims_for(&signing.client_id, "ann");
    let now = unix_now();

    let expired = mint_jwt(
        &signing.secret,
        &with_claim(claims.clone(), "exp", json!(now - 10)),
    );
    let reply = app.get(ROOMS, &[api_key_header(&expired)]).await;
    assert_chatapi_error(&reply, 401, "TOKEN_EXPIRED", "past exp");
    let reply = app
        .get(
            &chat_rooms_path(acme.id),
            &[("api_access_token", expired.as_str())],
        )
        .await;
    assert_eq!(
        assert_account_error(&reply, 401, "account dialect"),
        "Access token has expired"
    );

    for (key, value, what) in [
        ("exp", Value::Null, "no exp"),
        ("iss", Value::Null, "no iss"),
        ("sub", Value::Null, "no sub"),
        ("iss", json!("not-a-uuid"), "iss not a client id"),
        (
            "iss",
            json!("00000000-0000-4000-8000-000000000000"),
            "iss names no client",
        ),
        ("exp", json!("tomorrow"), "exp not a number"),
    ] {
        let token = mint_jwt(&signing.secret, &with_claim(claims.clone(), key, value));
        assert_unauthorized(&app.get(ROOMS, &[api_key_header(&token)]).await, what);
    }
    // Nobody was made by the refused tokens.
    let made = app.sql("SELECT count(*) FROM users WHERE external_id = 'ann'");
    assert_eq!(made, "0");
}

#[actix_web::test]
async fn the_previous_secret_works_for_24_hours_and_not_after() {
    let app = TestApp::spawn().await;
    let (acme, first) = signing_tenant(&app).await;
    let second = app.signing_secret(&acme.api_key).await;
    let claims = claims_for(&first.client_id, "ann");
    let old = mint_jwt(&first.secret, &claims);
    let new = mint_jwt(&second.secret, &claims);
    assert_eq!(app.rooms_status(&old).await, 200, "previous secret");
    assert_eq!(app.rooms_status(&new).await, 200, "current secret");

    // The previous secret was retired more than 24 hours ago.
    app.sql(
        "UPDATE signing_secrets SET retired_at = now() - interval '25 hours' \
         WHERE retired_at IS NOT NULL",
    );
    // A token not seen before (the cache may remember the first one for a few seconds).
    let later = with_claim(claims.clone(), "exp", json!(unix_now() + 7200));
    let old = mint_jwt(&first.secret, &later);
    assert_unauthorized(
        &app.get(ROOMS, &[api_key_header(&old)]).await,
        "retired secret",
    );
    let new = mint_jwt(&second.secret, &later);
    assert_eq!(app.rooms_status(&new).await, 200);

    // A third secret deletes what was retired 24 hours ago, and keeps the second.
    let third = app.signing_secret(&acme.api_key).await;
    assert_eq!(app.count_rows("signing_secrets"), 2);
    let claims = with_claim(claims, "exp", json!(unix_now() + 7300));
    assert_eq!(
        app.rooms_status(&mint_jwt(&second.secret, &claims)).await,
        200
    );
    assert_eq!(
        app.rooms_status(&mint_jwt(&third.secret, &claims)).await,
        200
    );
}

#[actix_web::test]
async fn revoke_tokens_refuses_earlier_tokens_and_scoped_keys_but_not_later_ones() {
    let app = TestApp::spawn().await;
    let (acme, signing) = signing_tenant(&app).await;
    let early = mint_jwt(
        &signing.secret,
        &with_claim(
            claims_for(&signing.client_id, "ann"),
            "iat",
            json!(unix_now() - 5),
        ),
    );
    assert_eq!(app.rooms_status(&early).await, 200);
    let key = app.scoped_key(&acme.api_key, "ann", None).await;
    let bob = mint_jwt(&signing.secret, &claims_for(&signing.client_id, "bob"));
    assert_eq!(app.rooms_status(&bob).await, 200);

    let reply = app.revoke_tokens(&acme.api_key, "ann").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let data = reply.json()["data"].clone();
    assert_eq!(keys_of(&data), ["tokens_valid_after", "user_id"]);
    assert_eq!(data["user_id"], "ann");
    let after = assert_rfc3339_near_now(&data["tokens_valid_after"]);

    assert_unauthorized(
        &app.get(ROOMS, &[api_key_header(&early)]).await,
        "earlier JWT",
    );
    assert_unauthorized(&app.get(ROOMS, &[api_key_header(&key)]).await, "scoped key");
    assert_eq!(app.rooms_status(&bob).await, 200, "another user's token");
    let no_iat = mint_jwt(
        &signing.secret,
        &with_claim(claims_for(&signing.client_id, "ann"), "iat", Value::Null),
    );
    assert_unauthorized(&app.get(ROOMS, &[api_key_header(&no_iat)]).await, "no iat");

    // A token issued after the revocation works.
    while unix_now() <= after {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let later = mint_jwt(&signing.secret, &claims_for(&signing.client_id, "ann"));
    assert_eq!(app.rooms_status(&later).await, 200, "a token issued after");
    let fresh = app.scoped_key(&acme.api_key, "ann", None).await;
    assert_eq!(app.rooms_status(&fresh).await, 200, "a key issued after");
}

#[actix_web::test]
async fn an_inactive_users_token_is_refused() {
    let app = TestApp::spawn().await;
    let (acme, signing) = signing_tenant(&app).await;
    let token = mint_jwt(&signing.secret, &claims_for(&signing.client_id, "ann"));
    assert_eq!(app.rooms_status(&token).await, 200);
    let reply = app
        .update_end_user(&acme.api_key, "ann", &json!({ "is_active": false }))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_unauthorized(&app.get(ROOMS, &[api_key_header(&token)]).await, "inactive");
    let fresh = mint_jwt(
        &signing.secret,
        &with_claim(
            claims_for(&signing.client_id, "ann"),
            "exp",
            json!(unix_now() + 100),
        ),
    );
    assert_unauthorized(
        &app.get(ROOMS, &[api_key_header(&fresh)]).await,
        "new token",
    );
}

#[actix_web::test]
async fn a_token_with_a_long_name_and_every_permission_is_accepted() {
    let app = TestApp::spawn().await;
    let (acme, signing) = signing_tenant(&app).await;
    let name = "Ж".repeat(255);
    let claims = json!({
        "iss": signing.client_id,
        "sub": "u".repeat(255),
        "iat": unix_now(),
        "exp": unix_now() + 3600,
        "name": name,
        "perms": ["read_messages", "send_messages", "join_rooms", "manage_rooms", "invite_users"],
    });
    let token = mint_jwt(&signing.secret, &claims);
    assert!(token.len() > 1024, "{} bytes", token.len());
    assert_eq!(app.rooms_status(&token).await, 200);
    let user = app.get_end_user(&acme.api_key, &"u".repeat(255)).await;
    assert_eq!(user.json()["data"]["user_name"], json!(name));
}
