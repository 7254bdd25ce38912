use chat_tests::*;
