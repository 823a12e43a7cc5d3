server {
	listen 443 ssl http2;
	server_name example.com www.example.com;
	root "/var/www/example.com/public";
	index index.php;

	error_log /var/log/nginx/example.com.error.log warn;
	# nginx has no "off" for error_log: this writes to a file named "off"
	# in the prefix.
	error_log off;

	location / {
		try_files $uri $uri/ /index.php?$args;
	}

	location ~ \.php$ {
		include snippets/fastcgi-php.conf;
		fastcgi_pass unix:/run/php/php8.2-fpm-example.sock;
		error_log /var/log/nginx/example.com.php.log;
	}

	location /static/ {
		alias /var/www/example.com/static/;
	}
}
