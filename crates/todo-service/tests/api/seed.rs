use todo_service::config::{AddUserConfig, SeedConfig};
use todo_service::seed::{self, SeedReport};

use crate::helpers::{cheap_hashing, fresh_database, spawn_app};

#[tokio::test]
async fn seeding_creates_users_with_todos_and_is_idempotent() {
    let url = fresh_database().await;
    let config = SeedConfig {
        users: 50,
        todos_per_user: 4,
        password: "pw".into(),
    };
    let first = seed::seed(&url, &cheap_hashing(), &config).await.unwrap();
    // 50 users + the demo account; 4 todos each + the demo account's 3.
    assert_eq!(
        first,
        SeedReport {
            users_created: 51,
            todos_created: 203
        }
    );
    let second = seed::seed(&url, &cheap_hashing(), &config).await.unwrap();
    assert_eq!(
        second,
        SeedReport {
            users_created: 0,
            todos_created: 0
        }
    );
}

#[tokio::test]
async fn seeding_more_users_later_adds_only_the_new_ones() {
    let url = fresh_database().await;
    seed::seed(
        &url,
        &cheap_hashing(),
        &SeedConfig {
            users: 5,
            todos_per_user: 1,
            password: "pw".into(),
        },
    )
    .await
    .unwrap();
    let more = seed::seed(
        &url,
        &cheap_hashing(),
        &SeedConfig {
            users: 8,
            todos_per_user: 1,
            password: "pw".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        more,
        SeedReport {
            users_created: 3,
            todos_created: 3
        }
    );
}

#[tokio::test]
async fn an_added_user_can_log_in_and_cannot_be_added_twice() {
    let app = spawn_app().await;
    let config = AddUserConfig {
        email: "New.Person@Lab.Test".into(),
        password: "long enough".into(),
    };
    seed::add_user(&app.database_url, &cheap_hashing(), &config)
        .await
        .unwrap();
    app.login("new.person@lab.test", "long enough").await;
    let again = seed::add_user(&app.database_url, &cheap_hashing(), &config).await;
    assert!(again.unwrap_err().to_string().contains("already exists"));
}
