//! Read receipts: how far every member of a room has got, for clients that show read and
//! delivered ticks (`DeliveryStatus::of` over the same positions decides a message's).

use std::collections::HashMap;

use chat_domain::{Position, RoomRef, User, UserId};

use super::Messages;
use crate::access::{room_error, user_error, visible_room};
use crate::actor::Actor;
use crate::error::AppError;

/// One member's positions in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The member.
    pub user: User,
    /// How far they have got.
    pub position: Position,
}

impl Messages {
    /// Every member's read and delivered positions in `room`, in the order the store
    /// gives them; whoever may read the room may see them. Members whose user is gone
    /// are left out.
    pub async fn receipts(&self, actor: &Actor, room: RoomRef) -> Result<Vec<Receipt>, AppError> {
        let account = actor.account_id()?;
        let room = visible_room(self.rooms.as_ref(), actor, account, room).await?;
        let positions = self
            .messages
            .positions(account, room.id)
            .await
            .map_err(room_error)?;
        let ids = positions.iter().map(|p| p.user).collect();
        let mut users: HashMap<UserId, User> = self
            .users
            .find_users(account, ids)
            .await
            .map_err(user_error)?
            .into_iter()
            .map(|user| (user.id, user))
            .collect();
        Ok(positions
            .into_iter()
            .filter_map(|position| {
                let user = users.remove(&position.user)?;
                Some(Receipt { user, position })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chat_domain::{AccountId, Features, Role, RoomId, Seq, UserId};
    use uuid::Uuid;

    use super::*;
    use crate::actor::AccountAccess;
    use crate::error::Denied;
    use crate::events::MockEventPublisher;
    use crate::ports::{MockFileStore, MockMessageStore, MockRoomStore, MockUserDirectory};
    use crate::testing;

    const ACCOUNT: AccountId = AccountId(1);

    fn agent(id: i64) -> Actor {
        Actor::User {
            account: AccountAccess {
                id: ACCOUNT,
                uuid: Uuid::from_u128(1),
                features: Features::default(),
            },
            user_id: UserId(id),
            role: Role::Agent,
            scope: None,
        }
    }

    fn position(user: i64, delivered: i64, read: i64) -> Position {
        Position {
            user: UserId(user),
            delivered: Seq(delivered),
            read: Seq(read),
        }
    }

    /// Members 10 and 20 (and 40, whose user is gone); 30 is no member.
    fn messages() -> Messages {
        let mut rooms = MockRoomStore::new();
        rooms
            .expect_find_room()
            .returning(|_, _| Ok(testing::room(ACCOUNT, RoomId(5))));
        rooms
            .expect_is_member()
            .returning(|_, _, user| Ok(user != UserId(30)));
        let mut store = MockMessageStore::new();
        store
            .expect_positions()
            .withf(|account, room| *account == ACCOUNT && *room == RoomId(5))
            .returning(|_, _| {
                Ok(vec![
                    position(10, 9, 7),
                    position(20, 4, 4),
                    position(40, 1, 1),
                ])
            });
        let mut users = MockUserDirectory::new();
        users.expect_find_users().returning(|_, ids| {
            Ok(ids
                .into_iter()
                .filter(|id| *id != UserId(40))
                .map(|id| testing::user(ACCOUNT, id))
                .collect())
        });
        Messages::new(
            Arc::new(rooms),
            Arc::new(store),
            Arc::new(users),
            Arc::new(MockFileStore::new()),
            Arc::new(MockEventPublisher::new()),
        )
    }

    #[tokio::test]
    async fn a_member_sees_every_members_positions_with_their_user() {
        let receipts = messages()
            .receipts(&agent(10), RoomRef::Id(RoomId(5)))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let seen: Vec<_> = receipts
            .iter()
            .map(|r| (r.user.id, r.position.delivered, r.position.read))
            .collect();
        assert_eq!(
            seen,
            [(UserId(10), Seq(9), Seq(7)), (UserId(20), Seq(4), Seq(4))]
        );
    }

    #[tokio::test]
    async fn an_agent_outside_the_room_sees_nothing() {
        let refused = messages()
            .receipts(&agent(30), RoomRef::Id(RoomId(5)))
            .await;
        assert!(
            matches!(refused, Err(AppError::Forbidden(Denied::NotMember))),
            "{refused:?}"
        );
    }
}
