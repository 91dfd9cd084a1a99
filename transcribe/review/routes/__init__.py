"""The screens of the review app, one router each: login, queue, review, audio, doctor, admin, learning."""
