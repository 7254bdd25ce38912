//! Notices from other nodes: what they name is read from the tables (a new message the
//! notice carries is not), then delivered.

use chat_app::{
    DomainEvent, LiveEvent, MemberEvent, MembershipChange, MessageChange, MessageEvent, Notice,
    RoomChange, RoomEvent, StoreError,
};
use chat_domain::{AccountId, MessageRef, Room, RoomId, RoomRef, User, UserId};

use crate::dispatcher::Dispatcher;

impl Dispatcher {
    /// Reads what a notice names, and delivers it.
    pub(crate) async fn remote(&mut self, notice: Notice) -> Result<(), StoreError> {
        let listening =
            |account: AccountId, room: RoomId| self.by_room.contains_key(&(account, room));
        let event = match notice {
            Notice::Credentials(event) => {
                self.credentials_changed(event);
                return Ok(());
            }
            Notice::MessageCreated {
                account,
                room,
                seq,
                message,
            } => {
                self.committed(account, room, seq, message.map(|m| *m))
                    .await;
                return Ok(());
            }
            Notice::MessageChanged {
                account,
                message,
                change,
            } => {
                let message = self
                    .stores
                    .messages
                    .find_message(account, MessageRef::Id(message))
                    .await?;
                if !listening(account, message.room_id) {
                    return Ok(());
                }
                DomainEvent::Message(match change {
                    MessageChange::Updated => MessageEvent::Updated(message),
                    MessageChange::Deleted => MessageEvent::Deleted(message),
                    MessageChange::Restored => MessageEvent::Restored(message),
                    MessageChange::Pinned => MessageEvent::Pinned(message),
                    MessageChange::Unpinned => MessageEvent::Unpinned(message),
                })
            }
            Notice::Reaction {
                account,
                message,
                emoji,
                user,
                added,
            } => {
                let message = self
                    .stores
                    .messages
                    .find_message(account, MessageRef::Id(message))
                    .await?;
                if !listening(account, message.room_id) {
                    return Ok(());
                }
                DomainEvent::Message(MessageEvent::Reacted {
                    message,
                    emoji,
                    user,
                    added,
                })
            }
            Notice::RoomChanged {
                account,
                room,
                change,
            } => {
                if !listening(account, room) || change == RoomChange::Created {
                    return Ok(());
                }
                let room = self.room(account, room).await?;
                DomainEvent::Room(match change {
                    RoomChange::Created | RoomChange::Updated => RoomEvent::Updated(room),
                    RoomChange::Activated => RoomEvent::Activated(room),
                    RoomChange::Deactivated => RoomEvent::Deactivated(room),
                })
            }
            Notice::RoomDeleted {
                account,
                room,
                uuid,
            } => DomainEvent::Room(RoomEvent::Deleted {
                account,
                id: room,
                uuid,
            }),
            Notice::Membership {
                account,
                room,
                user,
                change,
            } => {
                if !listening(account, room) && !self.by_user.contains_key(&(account, user)) {
                    return Ok(());
                }
                let room = self.room(account, room).await?;
                DomainEvent::Member(match change {
                    // The membership says when it began and its meta; one gone again
                    // (left at once: that notice follows) is not announced.
                    MembershipChange::Joined => {
                        let Some(membership) = self
                            .stores
                            .rooms
                            .find_membership(account, room.id, user)
                            .await?
                        else {
                            return Ok(());
                        };
                        MemberEvent::Joined {
                            room,
                            user: membership.user,
                            joined_at: membership.joined_at,
                            meta: membership.meta,
                        }
                    }
                    MembershipChange::Left { at } => {
                        let Some(user) = self.user(account, user).await? else {
                            return Ok(());
                        };
                        MemberEvent::Left {
                            room,
                            user,
                            left_at: at,
                        }
                    }
                })
            }
            Notice::Read {
                account,
                room,
                user,
                seq,
            } => {
                if !listening(account, room) {
                    return Ok(());
                }
                let room = self.room(account, room).await?;
                DomainEvent::Message(MessageEvent::Read { room, user, seq })
            }
            Notice::Typing(typing) => {
                self.fan_out(LiveEvent::Typing(typing)).await;
                return Ok(());
            }
            Notice::Presence(change) => {
                self.fan_out(LiveEvent::Presence(change)).await;
                return Ok(());
            }
        };
        self.fan_out(LiveEvent::Domain(event)).await;
        Ok(())
    }

    pub(crate) async fn room(&self, account: AccountId, room: RoomId) -> Result<Room, StoreError> {
        self.stores
            .rooms
            .find_room(account, RoomRef::Id(room))
            .await
    }

    pub(crate) async fn user(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<Option<User>, StoreError> {
        Ok(self
            .stores
            .users
            .find_users(account, vec![user])
            .await?
            .into_iter()
            .next())
    }
}
