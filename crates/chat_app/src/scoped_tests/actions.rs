//! Every action a scoped credential may ask for, on one room (or one message).

use chat_domain::{ExternalId, MessageId, MessageRef, Permission, RoomId, RoomRef};

use super::fixtures::App;
use crate::access::RoomAction;
use crate::actor::Actor;
use crate::error::AppError;
use crate::model::{
    Detail, Join, MessageDetail, MessageFilter, NewRoom, Outgoing, RawOutgoing, RoomPatch,
    RoomQuery, RoomSort, UserIds, Window,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    ListRooms,
    GetRoom,
    CreateRoom,
    RenameRoom,
    DeactivateRoom,
    DeleteRoom,
    AdmitSee,
    AdmitManage,
    AdmitManageMembers,
    AdmitSpeak,
    JoinSelf,
    JoinOther,
    LeaveSelf,
    LeaveOther,
    AddMembers,
    ReplaceMembers,
    RemoveMembers,
    Participants,
    ListMembers,
    Online,
    Send,
    ListMessages,
    GetMessage,
    EditOwn,
    DeleteOwn,
    RestoreOwn,
    MarkRead,
}

impl Action {
    pub(super) const ALL: [Action; 27] = [
        Action::ListRooms,
        Action::GetRoom,
        Action::CreateRoom,
        Action::RenameRoom,
        Action::DeactivateRoom,
        Action::DeleteRoom,
        Action::AdmitSee,
        Action::AdmitManage,
        Action::AdmitManageMembers,
        Action::AdmitSpeak,
        Action::JoinSelf,
        Action::JoinOther,
        Action::LeaveSelf,
        Action::LeaveOther,
        Action::AddMembers,
        Action::ReplaceMembers,
        Action::RemoveMembers,
        Action::Participants,
        Action::ListMembers,
        Action::Online,
        Action::Send,
        Action::ListMessages,
        Action::GetMessage,
        Action::EditOwn,
        Action::DeleteOwn,
        Action::RestoreOwn,
        Action::MarkRead,
    ];

    /// The permission a scoped credential needs for it.
    pub(super) fn needs(self) -> Permission {
        match self {
            Action::ListRooms
            | Action::GetRoom
            | Action::AdmitSee
            | Action::Participants
            | Action::ListMembers
            | Action::Online
            | Action::ListMessages
            | Action::GetMessage
            | Action::MarkRead => Permission::ReadMessages,
            Action::Send
            | Action::AdmitSpeak
            | Action::EditOwn
            | Action::DeleteOwn
            | Action::RestoreOwn => Permission::SendMessages,
            Action::JoinSelf | Action::LeaveSelf => Permission::JoinRooms,
            Action::CreateRoom
            | Action::RenameRoom
            | Action::DeactivateRoom
            | Action::DeleteRoom
            | Action::AdmitManage => Permission::ManageRooms,
            Action::JoinOther
            | Action::LeaveOther
            | Action::AddMembers
            | Action::ReplaceMembers
            | Action::RemoveMembers
            | Action::AdmitManageMembers => Permission::InviteUsers,
        }
    }

    /// Whether it names a room (or a message of one), so an unknown room is 404 first.
    pub(super) fn names_a_room(self) -> bool {
        !matches!(self, Action::ListRooms | Action::CreateRoom)
    }
}

fn ok<T, E: std::fmt::Display>(result: Result<T, E>) -> T {
    result.unwrap_or_else(|e| panic!("{e}"))
}

fn external(id: &str) -> ExternalId {
    ok(ExternalId::parse(id))
}

/// Does `action` as `actor` in room `room` (message actions: on message `room`, which
/// is in that room, sent by the scoped user; `room + 100` is bob's).
pub(super) async fn run(
    app: &App,
    actor: &Actor,
    action: Action,
    room: i64,
) -> Result<(), AppError> {
    let reference = RoomRef::Id(RoomId(room));
    let message = MessageRef::Id(MessageId(room));
    let window = ok(Window::new(0, 10, 100));
    let ids = || ok(UserIds::parse(Some(vec![40])));
    match action {
        Action::ListRooms => {
            let query = ok(RoomQuery::new(None, None, RoomSort::CreatedDesc, window));
            app.rooms
                .list(actor, query, Detail::Summary)
                .await
                .map(drop)
        }
        Action::GetRoom => app
            .rooms
            .get(actor, reference, Detail::WithMembers)
            .await
            .map(drop),
        Action::CreateRoom => {
            let new = ok(NewRoom::parse(Some("Ours"), None, None));
            app.rooms
                .create(actor, new, Detail::Summary)
                .await
                .map(drop)
        }
        Action::RenameRoom => {
            let patch = ok(RoomPatch::parse(Some(Some("New")), None, None));
            app.rooms
                .update(actor, reference, patch, Detail::Summary)
                .await
                .map(drop)
        }
        Action::DeactivateRoom => app
            .rooms
            .set_active(actor, reference, false)
            .await
            .map(drop),
        Action::DeleteRoom => app.rooms.delete(actor, reference).await,
        Action::AdmitSee => app.rooms.admit(actor, reference, RoomAction::See).await,
        Action::AdmitManage => app.rooms.admit(actor, reference, RoomAction::Manage).await,
        Action::AdmitManageMembers => {
            app.rooms
                .admit(actor, reference, RoomAction::ManageMembers)
                .await
        }
        Action::AdmitSpeak => {
            app.rooms
                .admit(actor, reference, RoomAction::SpeakAsMember)
                .await
        }
        Action::JoinSelf | Action::JoinOther => {
            let who = if action == Action::JoinSelf {
                "me"
            } else {
                "zed"
            };
            let join = ok(Join::parse(Some(who), None, None));
            app.members.join(actor, reference, join).await.map(drop)
        }
        Action::LeaveSelf => app.members.leave(actor, reference, external("me")).await,
        Action::LeaveOther => app.members.leave(actor, reference, external("bob")).await,
        Action::AddMembers => app.members.add(actor, reference, ids()).await.map(drop),
        Action::ReplaceMembers => app.members.replace(actor, reference, ids()).await.map(drop),
        Action::RemoveMembers => app.members.remove(actor, reference, ids()).await,
        Action::Participants => app
            .members
            .participants(actor, reference, window)
            .await
            .map(drop),
        Action::ListMembers => app.members.list(actor, reference).await.map(drop),
        Action::Online => app.members.online(actor, reference).await.map(drop),
        Action::Send => {
            let out = ok(Outgoing::parse(RawOutgoing {
                sender_id: Some("bob"),
                content: Some("hello"),
                ..RawOutgoing::default()
            }));
            app.messages
                .send(actor, reference, out, Vec::new(), MessageDetail::Summary)
                .await
                .map(drop)
        }
        Action::ListMessages => app
            .messages
            .list(
                actor,
                reference,
                MessageFilter::newest(window),
                MessageDetail::Summary,
            )
            .await
            .map(drop),
        Action::GetMessage => app
            .messages
            .get(actor, message, MessageDetail::Summary)
            .await
            .map(drop),
        Action::EditOwn => {
            let content = ok(chat_domain::Content::parse("edited").map_err(|e| format!("{e:?}")));
            app.messages
                .edit(actor, message, Some(content), None)
                .await
                .map(drop)
        }
        Action::DeleteOwn => app
            .messages
            .set_deleted(actor, message, true)
            .await
            .map(drop),
        // The fixture's messages are not deleted: restoring changes nothing, after the checks.
        Action::RestoreOwn => app
            .messages
            .set_deleted(actor, message, false)
            .await
            .map(drop),
        Action::MarkRead => app
            .messages
            .mark_read(actor, reference, None)
            .await
            .map(drop),
    }
}
